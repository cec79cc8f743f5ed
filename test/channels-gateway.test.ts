import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { telegramChannel } from "../src/channels/telegram/index.js";
import type { GatewayLogger } from "../src/core/context.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import type { AuthProtocol, GatewayRequest } from "../src/protocols/types.js";
import { openStores } from "../src/stores/open.js";
import { LocalBotApi } from "./channels-telegram-api.js";
import { deviceId, TestSocket } from "./gateway-helpers.js";
import { until } from "./support/until.js";

const TOKEN = "987654321:AAH-gateway_test_token_abcdefghijklmn";
const OWNER = 900;
const API_TOKEN = "owner-api-token-0123456789abcdef";
const CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;

/** One fixed owner bearer token; the role is assigned here, server-side. */
const ownerAuth: AuthProtocol = {
  check(request: GatewayRequest) {
    return request.headers.authorization === `Bearer ${API_TOKEN}`
      ? { success: true, userId: "alice", role: "owner", metadata: {} }
      : { success: false, metadata: {} };
  },
};

const lines: string[] = [];
const logger: GatewayLogger = {
  info: (m, f) => void lines.push(`info ${m} ${JSON.stringify(f ?? {})}`),
  warn: (m, f) => void lines.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
  error: (m, f) => void lines.push(`error ${m} ${JSON.stringify(f ?? {})}`),
};

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function setup(): Promise<{ api: LocalBotApi; apiRoot: string; storeUrl: string; secret: Buffer }> {
  const api = new LocalBotApi(TOKEN);
  const apiRoot = await api.listen();
  const dir = mkdtempSync(join(tmpdir(), "gh-channels-"));
  cleanup.push(
    () => api.close(),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  return { api, apiRoot, storeUrl: `sqlite:${join(dir, "gatehouse.db")}`, secret: randomBytes(32) };
}

async function startGateway(apiRoot: string, storeUrl: string, secret: Buffer): Promise<Gateway> {
  const gateway = createGateway({
    auth: ownerAuth,
    store: storeUrl,
    secret,
    logger,
    policy: { ownerUserIds: [`telegram:${OWNER}`] },
    http: { port: 0 },
    channels: [telegramChannel({ token: TOKEN, apiRoot, pollingTimeoutSeconds: 1 })],
  });
  await gateway.start();
  let stopped = false;
  cleanup.push(async () => {
    if (!stopped) await gateway.stop();
  });
  const stop = gateway.stop.bind(gateway);
  Object.assign(gateway, { stop: async () => ((stopped = true), await stop()) });
  return gateway;
}

async function requestAccess(api: LocalBotApi, userId: number, text: string) {
  api.push(api.message(userId, text, { firstName: "Carol" }));
  await until(
    () => api.textsTo(userId).some((t) => CODE.test(t)) && api.textsTo(OWNER).length > 0,
    "the code and the owner card",
    5_000,
  );
  const code = CODE.exec(api.textsTo(userId).find((t) => CODE.test(t))!)![0];
  const card = api
    .callsOf("sendMessage")
    .filter((c) => String(c.body.chat_id) === String(OWNER))
    .at(-1)!;
  const [approve] = (card.body.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
    .inline_keyboard[0]!;
  return { code, card, approveToken: approve!.callback_data };
}

/** The owner (or `by`) presses a card button in their DM; resolves with the answer Telegram showed them. */
async function press(api: LocalBotApi, token: string, messageId: number, by = OWNER): Promise<string> {
  const update = api.callbackQuery(by, token, { chatId: by, messageId });
  api.push(update);
  const queryId = (update.callback_query as { id: string }).id;
  await until(
    () => api.callsOf("answerCallbackQuery").some((c) => c.body.callback_query_id === queryId),
    "the press answer",
    5_000,
  );
  return String(api.callsOf("answerCallbackQuery").find((c) => c.body.callback_query_id === queryId)!.body.text);
}

describe("telegram through createGateway on SQLite", () => {
  it("an approval over the HTTP admin API reaches the Telegram user, whose first message then gets its reply", async () => {
    const { api, apiRoot, storeUrl, secret } = await setup();
    const gateway = await startGateway(apiRoot, storeUrl, secret);
    const { code } = await requestAccess(api, 42, "hello gateway");
    const res = await fetch(`${gateway.url}/api/pairing/approve`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ channelType: "telegram", code }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ approved: true });
    await until(() => api.textsTo(42).some((t) => t.startsWith("Good news")), "the approval notice", 5_000);
    await until(() => api.textsTo(42).includes("echo: hello gateway"), "the first message's reply", 5_000);
    const logs = lines.join("\n");
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(code);
  });

  it("an approval by another process on the same store (like the CLI) reaches the user", async () => {
    const { api, apiRoot, storeUrl, secret } = await setup();
    await startGateway(apiRoot, storeUrl, secret);
    const { code } = await requestAccess(api, 43, "hi from 43");
    const other = await openStores(storeUrl, { secret });
    cleanup.push(() => other.close());
    expect(await other.pairing.approve("telegram", code, "", "", { approvedBy: "cli" })).toBe(true);
    await until(() => api.textsTo(43).includes("echo: hi from 43"), "the first message's reply", 5_000);
  });

  it("buttons survive a gateway restart: a card sent before the restart still approves after it", async () => {
    const { api, apiRoot, storeUrl, secret } = await setup();
    const first = await startGateway(apiRoot, storeUrl, secret);
    const { card, approveToken } = await requestAccess(api, 44, "before restart");
    await first.stop();

    await startGateway(apiRoot, storeUrl, secret);
    expect(await press(api, approveToken, card.messageId!)).toMatch(/^Approved/);
    // The new instance never saw the request's chat: the user is reached in their DM (chat id = user id).
    await until(() => api.textsTo(44).includes("echo: before restart"), "the first message's reply", 5_000);
  });
});

describe("a webchat device's request before the Telegram owner", () => {
  /** A device connects over the gateway's WebSocket; the Telegram owner gets its card. */
  async function deviceAsks(gateway: Gateway, api: LocalBotApi) {
    const socket = await TestSocket.open(`${gateway.url.replace(/^http/, "ws")}/ws`);
    cleanup.push(() => socket.close());
    socket.send({ type: "connect", params: { deviceId: deviceId("card"), name: "Dana laptop" } });
    const pairing = await socket.nextOfType("pairing");
    await until(() => api.textsTo(OWNER).some((t) => t.includes(pairing.code)), "the owner card", 5_000);
    const card = api
      .callsOf("sendMessage")
      .filter((c) => String(c.body.chat_id) === String(OWNER))
      .at(-1)!;
    const [approve, deny] = (card.body.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
      .inline_keyboard[0]!;
    return { socket, card, approveToken: approve!.callback_data, denyToken: deny!.callback_data };
  }

  it("the owner's card names webchat and the device, and its Approve lets the waiting device in", async () => {
    const { api, apiRoot, storeUrl, secret } = await setup();
    const gateway = await startGateway(apiRoot, storeUrl, secret);
    const { socket, card, approveToken } = await deviceAsks(gateway, api);
    expect(String(card.body.text)).toContain("Access request on webchat");
    expect(String(card.body.text)).toContain("Dana laptop");
    // Someone who is not an owner cannot use the card (the token is signed for the owner, and they are no owner).
    expect(await press(api, approveToken, card.messageId!, 777)).not.toMatch(/^Approved/);
    expect(await press(api, approveToken, card.messageId!)).toMatch(/^Approved/);
    await socket.next((f) => f.type === "event" && f.event === "pairing.approved");
    const hello = await socket.nextOfType("hello");
    expect(hello.principal).toMatchObject({ role: "user" });
    const listed = await fetch(`${gateway.url}/api/pairing/paired`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    const paired = ((await listed.json()) as { paired: Array<{ channelType: string }> }).paired;
    expect(paired.filter((p) => p.channelType === "webchat")).toHaveLength(1);
    // The press is single use: pressing again decides nothing.
    expect(await press(api, approveToken, card.messageId!)).not.toMatch(/^Approved/);
  });

  it("its Deny closes the waiting device's socket", async () => {
    const { api, apiRoot, storeUrl, secret } = await setup();
    const gateway = await startGateway(apiRoot, storeUrl, secret);
    const { socket, card, denyToken } = await deviceAsks(gateway, api);
    expect(await press(api, denyToken, card.messageId!)).toMatch(/^Denied/);
    const error = await socket.nextOfType("error");
    expect(error.error.message).toContain("denied");
    expect((await socket.closed).code).toBe(4403);
  });
});
