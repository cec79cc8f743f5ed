import OpenAI, { type APIError } from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalModelServer, rateLimited } from "./openai-server.js";

// The local model server is only useful if the official client reads it as it reads OpenAI: these checks drive it with
// the real `openai` package.
describe("local model server, through the official openai client", () => {
  let server: LocalModelServer;
  let client: OpenAI;

  beforeEach(async () => {
    server = new LocalModelServer({ apiKey: "sk-local-test-key" });
    client = new OpenAI({ baseURL: await server.listen(), apiKey: "sk-local-test-key", maxRetries: 0 });
  });
  afterEach(async () => server.close());

  it("streams role, content deltas, finish_reason, a usage chunk and [DONE]", async () => {
    server.next({ kind: "reply", text: "hello there world" });
    const stream = await client.chat.completions.create({
      model: "local",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    const finishes: Array<string | null> = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      if (chunk.choices.length === 0) usage = chunk.usage;
      for (const choice of chunk.choices) {
        if (choice.delta.content) pieces.push(choice.delta.content);
        finishes.push(choice.finish_reason);
      }
    }
    expect(pieces).toEqual(["hello", " there", " world"]);
    expect(finishes.at(-1)).toBe("stop");
    expect(usage).toEqual({ prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 });
  });

  it("answers one chat.completion without stream", async () => {
    const completion = await client.chat.completions.create({
      model: "local",
      messages: [{ role: "user", content: "ping" }],
    });
    expect(completion.choices[0]?.message.content).toBe("you said: ping");
  });

  it("refuses a wrong key with 401 and OpenAI's error object", async () => {
    const wrong = new OpenAI({ baseURL: client.baseURL, apiKey: "sk-wrong", maxRetries: 0 });
    const error = await wrong.chat.completions
      .create({ model: "local", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as APIError).code).toBe("invalid_api_key");
  });

  it("refuses a request without a model with 400", async () => {
    const error = await client.chat.completions
      .create({ model: "", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("answers 429 with retry-after, which the client honours when it retries", async () => {
    server.next(rateLimited(1));
    const noRetry = await client.chat.completions
      .create({ model: "local", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(noRetry).toBeInstanceOf(OpenAI.RateLimitError);
    expect((noRetry as APIError).headers?.get("retry-after")).toBe("1");

    server.next(rateLimited(1));
    const retrying = new OpenAI({ baseURL: client.baseURL, apiKey: "sk-local-test-key", maxRetries: 1 });
    const started = Date.now();
    const completion = await retrying.chat.completions.create({
      model: "local",
      messages: [{ role: "user", content: "again" }],
    });
    expect(completion.choices[0]?.message.content).toBe("you said: again");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("drops the connection mid-stream, which the client reports as an error", async () => {
    server.next({ kind: "disconnectAfter", tokens: 2, text: "one two three four" });
    const stream = await client.chat.completions.create({
      model: "local",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    const pieces: string[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((e: unknown) => e);
    expect(pieces.join("")).toBe("one two");
    expect(failure).toBeInstanceOf(Error);
  });

  it("sees the client abort a slow answer as a disconnect", async () => {
    server.setTiming({ firstTokenDelayMs: 5_000 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "local", messages: [{ role: "user", content: "x" }], stream: true },
      { signal: controller.signal },
    );
    const reading = (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    controller.abort();
    // The client ends the iteration quietly on its own abort.
    expect(await reading).toBeUndefined();
    await server.waitForDisconnect();
  });
});
