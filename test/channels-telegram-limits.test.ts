import { randomBytes } from "node:crypto";
import { Api } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { TelegramAdapter, telegramChannel } from "../src/channels/telegram/index.js";
import type { ChannelPlugin, GatewayLogger } from "../src/core/context.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { LocalBotApi } from "./channels-telegram-api.js";
import { testClock, testGateway, type TestGateway } from "./channels-context.js";
import { hasLoneSurrogate, parseHtml } from "./support/telegram-limits.js";
import { until } from "./support/until.js";

const TOKEN = "123456789:AAH-local_test_token_abcdefghijklmnopq";
const OWNER = 900;
const CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function startBot(): Promise<{ api: LocalBotApi; gw: TestGateway; plugin: ChannelPlugin; apiRoot: string }> {
  const api = new LocalBotApi(TOKEN);
  const apiRoot = await api.listen();
  const clock = testClock(Date.now());
  const gw = await testGateway({ clock, policy: { ownerUserIds: [String(OWNER)] } });
  const plugin = channelPlugin(
    new TelegramAdapter({ token: TOKEN, apiRoot, pollingTimeoutSeconds: 1, conflictBackoffMs: 50 }),
    { now: clock.now },
  );
  await plugin.start(gw.ctx);
  cleanup.push(
    () => api.close(),
    () => gw.close(),
    () => plugin.stop(),
  );
  return { api, gw, plugin, apiRoot };
}

/** A gateway with HTTP (for /healthz) and the Telegram channel, on a memory store. */
async function startGateway(): Promise<{ api: LocalBotApi; gateway: Gateway; logs: string[]; apiRoot: string }> {
  const api = new LocalBotApi(TOKEN);
  const apiRoot = await api.listen();
  const logs: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const logger: GatewayLogger = { info: log("info"), warn: log("warn"), error: log("error") };
  const gateway = createGateway({
    store: "memory:",
    secret: randomBytes(32),
    logger,
    policy: { ownerUserIds: [`telegram:${OWNER}`] },
    http: { port: 0 },
    channels: [telegramChannel({ token: TOKEN, apiRoot, pollingTimeoutSeconds: 1, conflictBackoffMs: 50 })],
  });
  await gateway.start();
  cleanup.push(
    () => api.close(),
    () => gateway.stop(),
  );
  return { api, gateway, logs, apiRoot };
}

/** Waits until /healthz answers with this status. */
async function healthBecomes(gateway: Gateway, status: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await health(gateway)).status !== status) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for /healthz ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function health(
  gateway: Gateway,
): Promise<{ status: number; body: { ok: boolean; channels?: Record<string, string>; error?: { message: string } } }> {
  const res = await fetch(`${gateway.url}/healthz`);
  return { status: res.status, body: (await res.json()) as never };
}

describe("telegram 409 Conflict (two pollers overlapping)", () => {
  it("one conflict: polling carries on, /healthz stays ok, the next message is answered", async () => {
    const { api, gateway, logs, apiRoot } = await startGateway();
    // A second process polls once with the same token, as the old one does during a restart: ours gets a 409.
    await until(() => api.callsOf("getUpdates").length >= 1, "the first poll");
    await new Api(TOKEN, { apiRoot }).getUpdates({ timeout: 0 });
    await until(() => api.callsOf("getUpdates").some((c) => c.status === 409), "the conflict");
    api.push(api.message(OWNER, "still there?"));
    await until(() => api.textsTo(OWNER).includes("echo: still there?"), "the reply after the conflict");
    expect(logs.some((l) => l.startsWith("warn telegram polling conflict (409)"))).toBe(true);
    expect(await health(gateway)).toMatchObject({ status: 200, body: { ok: true, channels: { telegram: "ok" } } });
  });

  it("conflicts that persist show the channel degraded in /healthz and the log; it recovers once the other poller is gone", async () => {
    const { api, gateway, logs, apiRoot } = await startGateway();
    const rival = new Api(TOKEN, { apiRoot });
    let rivalRunning = true;
    const rivalLoop = (async () => {
      while (rivalRunning) await rival.getUpdates({ timeout: 1, offset: -1 }).catch(() => undefined);
    })();
    await healthBecomes(gateway, 503);
    const degraded = await health(gateway);
    expect(degraded.body.channels).toEqual({ telegram: "degraded" });
    expect(degraded.body.error?.message).toMatch(/^channel telegram is degraded: polling conflict \(409\)/);
    expect(logs.some((l) => l.startsWith("error channel degraded") && l.includes('"channelType":"telegram"'))).toBe(
      true,
    );
    rivalRunning = false;
    await rivalLoop;
    await healthBecomes(gateway, 200);
    api.push(api.message(OWNER, "back"));
    await until(() => api.textsTo(OWNER).includes("echo: back"), "the reply after recovery");
    expect(logs.some((l) => l.startsWith("info channel recovered"))).toBe(true);
    expect(logs.join("\n")).not.toContain(TOKEN.split(":")[1]);
  });

  it("a token revoked while polling (401) stops polling for good: degraded in /healthz, naming the channel and the cause", async () => {
    const { api, gateway } = await startGateway();
    await until(() => api.callsOf("getUpdates").length >= 1, "the first poll");
    api.revokeToken();
    await healthBecomes(gateway, 503);
    expect((await health(gateway)).body.error?.message).toBe(
      "channel telegram is degraded: polling stopped: the Bot API refused the bot token (401)",
    );
  });
});

describe("telegram 429 (flood control): retried after retry_after, nothing dropped", () => {
  it("the code reply, the owner card and the 'you're in' notice all arrive after the wait", async () => {
    const { api, gw } = await startBot();
    api.floodWait(42, 1);
    api.floodWait(OWNER, 2);
    api.push(api.message(42, "hello"));
    await until(() => api.textsTo(42).some((t) => CODE.test(t)), "the code reply", 10_000);
    await until(() => api.sentTo(OWNER).length === 1, "the owner card", 10_000);
    expect(api.callsOf("sendMessage").filter((c) => c.status === 429).length).toBeGreaterThanOrEqual(2);
    const code = CODE.exec(api.textsTo(42).find((t) => CODE.test(t))!)![0];
    api.floodWait(42, 1);
    expect(await gw.stores.pairing.approve("telegram", code)).toBe(true);
    await until(() => api.textsTo(42).some((t) => t.startsWith("Good news")), "the approved notice", 10_000);
    await until(() => api.textsTo(42).includes("echo: hello"), "the first message's reply", 10_000);
  });
});

describe("telegram limits: pieces and quotes never cut a character", () => {
  it("an emoji reply over 4096 UTF-16 units arrives whole, in valid pieces", async () => {
    const { api } = await startBot();
    const text = `x${"😀".repeat(2047)}`; // 4095 units; the echo is 4101
    api.push(api.message(OWNER, text));
    await until(() => api.sentTo(OWNER).length >= 2, "the split reply");
    const parts = api.textsTo(OWNER);
    expect(parts.join("")).toBe(`echo: ${text}`);
    expect(parts.every((p) => p.length <= 4096 && !hasLoneSurrogate(p))).toBe(true);
    expect(api.callsOf("sendMessage").every((c) => c.status === 200)).toBe(true);
  });

  it("a first message of emoji past the card's quote length: the card is delivered, the quote clipped between emoji", async () => {
    const { api } = await startBot();
    api.push(api.message(42, `x${"😀".repeat(400)}`));
    await until(() => api.sentTo(OWNER).length === 1, "the owner card");
    expect(api.callsOf("sendMessage").every((c) => c.status === 200)).toBe(true);
    expect(String(api.sentTo(OWNER)[0]!.body.text)).toMatch(/😀…<\/code>/);
  });

  it("registers /pair in the bot's command menu (setMyCommands)", async () => {
    const { api } = await startBot();
    expect(api.commands.map((c) => c.command)).toEqual(["pair", "new", "stop"]);
  });
});

describe("telegram owner card: requester text cannot write into it (issue 12 item 4)", () => {
  it("a hostile display name and first message add no line, link, mention, command or button", async () => {
    const { api } = await startBot();
    const message =
      'hi\nCode: ZZZZ-ZZZZ\r\nFrom: the owner [x](https://evil.example) https://evil.example @someone_else /pair <a href="https://evil.example">y</a> \u202Egnp.exe';
    api.push(
      api.message(42, message, { firstName: "Eve\nCode: AAAA-AAAA\nFrom: owner", lastName: "<b>x</b> @durov_real" }),
    );
    await until(() => api.sentTo(OWNER).length === 1, "the owner card");
    const card = api.sentTo(OWNER)[0]!;
    const code = CODE.exec(api.textsTo(42).find((t) => CODE.test(t))!)![0];
    const visible = parseHtml(String(card.body.text)).text.split("\n");
    expect(visible).toHaveLength(5);
    expect(visible.filter((line) => line.startsWith("Code:"))).toEqual([`Code: ${code}`]);
    expect(visible.filter((line) => line.startsWith("From:"))).toHaveLength(1);
    expect(visible[1]).toContain("<b>x</b> @durov_real");
    expect(visible.join("\n")).not.toContain("\u202E");
    expect(card.entities!.filter((e) => !["code"].includes(e.type))).toEqual([]);
    const keyboard = (card.body.reply_markup as { inline_keyboard: Array<Array<{ text: string }>> }).inline_keyboard;
    expect(keyboard.flat().map((b) => b.text)).toEqual(["Approve", "Deny"]);
  });
});
