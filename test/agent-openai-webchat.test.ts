import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  connectWithToken,
  startGateway,
  USER_TOKEN,
  type Frame,
  type TestGateway,
  type TestSocket,
} from "./gateway-helpers.js";
import { LocalModelServer, rateLimited } from "./openai-server.js";

const KEY = "sk-local-model-key-0123456789";

// The openai agent, driven by the official client against the local model server, reached by a WebSocket client.
describe("openai agent over the WebSocket", () => {
  let model: LocalModelServer;
  let baseUrl: string;
  let gw: TestGateway | undefined;
  let socket: TestSocket | undefined;

  beforeEach(async () => {
    model = new LocalModelServer({ apiKey: KEY });
    baseUrl = await model.listen();
    process.env.GH_TEST_MODEL_KEY = KEY;
  });
  afterEach(async () => {
    socket?.close();
    await gw?.stop();
    await model.close();
    gw = undefined;
    socket = undefined;
  });

  async function connect(agent: Record<string, unknown> = {}): Promise<TestSocket> {
    gw = await startGateway({
      agent: {
        type: "openai",
        baseUrl,
        model: "local-model",
        apiKeyEnv: "GH_TEST_MODEL_KEY",
        systemPrompt: "Be brief.",
        temperature: 0.2,
        maxTokens: 64,
        ...agent,
      } as never,
    });
    socket = (await connectWithToken(gw.wsUrl, USER_TOKEN)).socket;
    return socket;
  }

  async function deltasUntilRes(s: TestSocket, id: string): Promise<{ deltas: string[]; res: Frame }> {
    const deltas: string[] = [];
    for (;;) {
      const frame = await s.next(
        (f) =>
          (f.type === "event" && f.event === "chat.delta" && f.payload.id === id) || (f.type === "res" && f.id === id),
      );
      if (frame.type === "res") return { deltas, res: frame };
      deltas.push(frame.payload.text as string);
    }
  }

  it("streams the model's reply as chat.delta frames and sends model, system prompt and settings", async () => {
    model.setTiming({ tokenIntervalMs: 30 });
    model.next({ kind: "reply", text: "Paris is the capital of France." });
    const s = await connect();
    s.send({ type: "req", id: "q1", method: "chat.send", params: { text: "Capital of France?" } });
    const { deltas, res } = await deltasUntilRes(s, "q1");
    expect(res.ok).toBe(true);
    expect(res.payload.text).toBe("Paris is the capital of France.");
    expect(deltas.join("")).toBe("Paris is the capital of France.");
    expect(deltas.length).toBeGreaterThan(1);
    const sent = model.requests[0]!;
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body).toMatchObject({
      model: "local-model",
      stream: true,
      temperature: 0.2,
      max_tokens: 64,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Capital of France?" },
      ],
    });
  });

  it("a 429 gives the user one short honest line and logs the status without the key", async () => {
    const s = await connect();
    for (let i = 0; i < 2; i++) {
      model.next(rateLimited(0));
    }
    const res = await s.request("r1", "chat.send", { text: "hello" });
    expect(res.ok).toBe(false);
    expect(res.error.message).toMatch(/rate limit/i);
    expect(gw!.logger.lines.join("\n")).toMatch(/HTTP 429/);
    expect(gw!.logger.lines.join("\n")).not.toContain(KEY);
    expect(gw!.logger.lines.join("\n")).not.toContain("hello");
    // The gateway stays up: the next message is answered.
    const ok = await s.request("r2", "chat.send", { text: "again" });
    expect(ok.payload.text).toBe("you said: again");
  });

  it("a wrong key is reported as the model being unreachable, logged without the key", async () => {
    process.env.GH_TEST_MODEL_KEY = "sk-some-other-key-0123456789";
    const s = await connect();
    const res = await s.request("k1", "chat.send", { text: "hello" });
    expect(res.error.message).toMatch(/cannot be reached/);
    expect(gw!.logger.lines.join("\n")).toMatch(/HTTP 401.*invalid_api_key/);
    expect(gw!.logger.lines.join("\n")).not.toContain("sk-some-other-key");
  });

  it("a stream cut mid-way ends the turn with a failure line after the deltas that came", async () => {
    const s = await connect();
    model.next({ kind: "disconnectAfter", tokens: 2, text: "one two three four" });
    s.send({ type: "req", id: "d1", method: "chat.send", params: { text: "count" } });
    const { deltas, res } = await deltasUntilRes(s, "d1");
    expect(deltas.join("")).toBe("one two");
    expect(res.ok).toBe(false);
    expect(res.error.message).toMatch(/went wrong/);
  });

  it("a model that goes quiet past the timeout is a timeout, and the request to it is aborted", async () => {
    model.setTiming({ firstTokenDelayMs: 3_000 });
    const s = await connect({ timeoutMs: 200 });
    const res = await s.request("t1", "chat.send", { text: "slow" });
    expect(res.error.message).toMatch(/too long/);
    await model.waitForDisconnect();
  });

  it("refuses a bad agent section with the field named", async () => {
    await expect(startGateway({ agent: { type: "openai", baseUrl: "not a url", model: "" } as never })).rejects.toThrow(
      /agent\.baseUrl.*agent\.model|agent\.model.*agent\.baseUrl/s,
    );
    await expect(
      startGateway({ agent: { type: "openai", baseUrl, model: "m", apiKeyEnv: "GH_TEST_UNSET_VARIABLE" } as never }),
    ).rejects.toThrow(/GH_TEST_UNSET_VARIABLE is not set/);
  });
});
