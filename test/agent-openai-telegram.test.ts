import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin, type ChannelRouterOptions } from "../src/channels/router.js";
import { TelegramAdapter } from "../src/channels/telegram/index.js";
import { LocalBotApi } from "./channels-telegram-api.js";
import { startGateway, STORE_KINDS, type StoreKind, type TestGateway } from "./gateway-helpers.js";
import { LocalModelServer, rateLimited } from "./openai-server.js";
import { until } from "./support/until.js";

const TOKEN = "123456789:AAH-local_test_token_abcdefghijklmnopq";
const USER = 501;

// End to end: a Telegram user (grammY against the local Bot API) talks to the openai agent (the official client against
// the local model server) through the real gateway.
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function start(options: { router?: ChannelRouterOptions; storeKind?: StoreKind; model?: LocalModelServer } = {}) {
  const model = options.model ?? new LocalModelServer({ apiKey: "none" });
  const baseUrl = options.model?.url ?? (await model.listen());
  const api = new LocalBotApi(TOKEN);
  const apiRoot = await api.listen();
  const adapter = new TelegramAdapter({ token: TOKEN, apiRoot, pollingTimeoutSeconds: 1 });
  const gw: TestGateway = await startGateway({
    agent: { type: "openai", baseUrl, model: "m" },
    policy: { allowedUsers: [String(USER), String(USER + 1)] },
    channels: [channelPlugin(adapter, options.router)],
    ...(options.storeKind ? { storeKind: options.storeKind } : {}),
  });
  cleanup.push(async () => {
    await gw.gateway.stop();
    await api.close();
  });
  if (!options.model) cleanup.push(() => model.close());
  return { model, api, gw };
}

describe("openai agent on Telegram", () => {
  it("shows typing, then edits one message as the reply streams, ending with the whole reply", async () => {
    const { model, api } = await start();
    model.setTiming({ firstTokenDelayMs: 300, tokenIntervalMs: 150 });
    const reply = "Streaming replies arrive piece by piece on Telegram today";
    model.next({ kind: "reply", text: reply });
    api.push(api.message(USER, "stream please"));
    await until(() => api.shownIn(USER).includes(reply), "the whole reply shown", 10_000);
    expect(api.callsOf("sendChatAction").filter((c) => c.body.action === "typing").length).toBeGreaterThan(0);
    // One message, edited (not one message per token), and under one edit per second.
    expect(api.sentTo(USER)).toHaveLength(1);
    const edits = api.callsOf("editMessageText").filter((c) => c.status === 200);
    expect(edits.length).toBeGreaterThan(0);
    expect(edits.length).toBeLessThan(reply.split(" ").length);
  });

  it('"final" mode sends the reply once, complete, after typing', async () => {
    const { model, api } = await start({ router: { replyMode: "final" } });
    model.setTiming({ tokenIntervalMs: 20 });
    model.next({ kind: "reply", text: "all at once please" });
    api.push(api.message(USER, "hi"));
    await until(() => api.textsTo(USER).length > 0, "the reply", 10_000);
    expect(api.textsTo(USER)).toEqual(["all at once please"]);
    expect(api.callsOf("editMessageText")).toHaveLength(0);
    expect(api.callsOf("sendChatAction").length).toBeGreaterThan(0);
  });

  it("splits a long answer at Telegram's 4096 limit without cutting a character", async () => {
    const { model, api } = await start({ router: { replyMode: "final" } });
    const long = "😀".repeat(2100) + " end";
    model.next({ kind: "reply", text: long });
    api.push(api.message(USER, "long one"));
    await until(() => api.textsTo(USER).join("").endsWith(" end"), "both parts", 10_000);
    const parts = api.textsTo(USER);
    expect(parts.length).toBe(2);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(4096);
    expect(parts.join("")).toBe(long);
  });

  it("remembers the conversation per sender across a gateway restart (SQLite), and /new forgets it", async () => {
    const sqlite = STORE_KINDS.find((k) => k.name === "sqlite")!;
    const { url: storeUrl, cleanup: removeFile } = sqlite.make();
    const sameFile: StoreKind = { name: "sqlite", make: () => ({ url: storeUrl, cleanup() {} }) };
    cleanup.push(async () => removeFile());
    const model = new LocalModelServer({ apiKey: "none" });
    await model.listen();
    cleanup.push(() => model.close());

    const first = await start({ storeKind: sameFile, model, router: { replyMode: "final" } });
    first.api.push(first.api.message(USER, "my name is Ada"));
    await until(() => first.api.textsTo(USER).length === 1, "the first reply", 10_000);
    await first.gw.gateway.stop();
    await first.api.close();

    const second = await start({ storeKind: sameFile, model, router: { replyMode: "final" } });
    second.api.push(second.api.message(USER, "what is my name?"));
    await until(() => second.api.textsTo(USER).length === 1, "the second reply", 10_000);
    expect(model.requests[1]!.body.messages.map((m) => m.content)).toEqual([
      "my name is Ada",
      "you said: my name is Ada",
      "what is my name?",
    ]);
    // Another sender in the same bot has a conversation of their own.
    second.api.push(second.api.message(USER + 1, "and mine?"));
    await until(() => model.requests.length === 3, "the other sender's request", 10_000);
    expect(model.requests[2]!.body.messages.map((m) => m.content)).toEqual(["and mine?"]);

    second.api.push(second.api.message(USER, "/new"));
    await until(() => second.api.textsTo(USER).some((t) => /fresh conversation/.test(t)), "the /new answer", 10_000);
    second.api.push(second.api.message(USER, "who am I?"));
    await until(() => model.requests.length === 4, "the request after /new", 10_000);
    expect(model.requests[3]!.body.messages.map((m) => m.content)).toEqual(["who am I?"]);
  });

  it("/stop cancels the answer being written: the model sees the disconnect and the chat keeps what came", async () => {
    const { model, api } = await start();
    model.setTiming({ tokenIntervalMs: 300 });
    model.next({ kind: "reply", text: "a very long answer that goes on and on and on for a long while" });
    api.push(api.message(USER, "talk"));
    await until(() => api.sentTo(USER).length > 0, "the first streamed words", 10_000);
    api.push(api.message(USER, "/stop"));
    await model.waitForDisconnect(10_000);
    await until(() => api.textsTo(USER).includes("Stopped."), "the stop answer", 10_000);
    expect(api.shownIn(USER)[0]!.length).toBeLessThan(60);
  });

  it("a model error gives one short honest line, and the bot keeps answering", async () => {
    const { model, api, gw } = await start();
    for (let i = 0; i < 2; i++) model.next(rateLimited(0));
    api.push(api.message(USER, "hello"));
    await until(() => api.textsTo(USER).length > 0, "the failure line", 10_000);
    expect(api.textsTo(USER)).toEqual(["The model is over its rate limit right now. Please try again in a minute."]);
    expect(gw.logger.lines.join("\n")).toMatch(/HTTP 429/);
    expect(gw.logger.lines.join("\n")).not.toMatch(/hello/);
    api.push(api.message(USER, "again"));
    await until(() => api.shownIn(USER).includes("you said: again"), "the next reply", 10_000);
  });
});
