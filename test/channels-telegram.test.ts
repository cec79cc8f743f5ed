import { afterEach, describe, expect, it } from "vitest";
import type { ChannelPlugin } from "../src/core/context.js";
import { telegramChannel, TelegramAdapter } from "../src/channels/telegram/index.js";
import { channelPlugin } from "../src/channels/router.js";
import { LocalBotApi, type ApiCall } from "./channels-telegram-api.js";
import { testClock, testGateway, type TestClock, type TestGateway } from "./channels-context.js";
import { DEFAULT_MESSAGES } from "../src/channels/messages.js";
import {
  expectButtonRefusals,
  expectDenyFlow,
  type PressPlace,
  type RefusalDriver,
} from "./support/channel-refusals.js";
import { until } from "./support/until.js";

const TOKEN = "123456789:AAH-local_test_token_abcdefghijklmnopq";
const OWNER = 900;
const CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;

interface Harness {
  api: LocalBotApi;
  gw: TestGateway;
  clock: TestClock;
  plugin: ChannelPlugin;
}

let harness: Harness | null = null;

afterEach(async () => {
  if (!harness) return;
  await harness.plugin.stop();
  await harness.api.close();
  await harness.gw.close();
  harness = null;
});

async function startBot(
  mode: "polling" | "webhook" = "polling",
  secretToken = "webhook_secret_0123456789abcdef",
): Promise<Harness & { adapter: TelegramAdapter }> {
  const api = new LocalBotApi(TOKEN);
  const apiRoot = await api.listen();
  const clock = testClock(Date.now());
  const gw = await testGateway({ clock, policy: { ownerUserIds: [String(OWNER)] } });
  const adapter = new TelegramAdapter({
    token: TOKEN,
    apiRoot,
    mode,
    pollingTimeoutSeconds: 1,
    ...(mode === "webhook" ? { webhook: { secretToken, port: 0 } } : {}),
  });
  const plugin = channelPlugin(adapter, { now: clock.now });
  await plugin.start(gw.ctx);
  harness = { api, gw, clock, plugin };
  return { ...harness, adapter };
}

/** The user writes, gets a code; the owner gets a card. Returns the code and the card's call. */
async function requestAccess(
  api: LocalBotApi,
  userId: number,
  text = "hello bot",
): Promise<{ code: string; card: ApiCall; approve: string; deny: string }> {
  const cardsBefore = api.textsTo(OWNER).length;
  api.push(api.message(userId, text, { firstName: "Alice" }));
  await until(() => api.textsTo(userId).some((t) => CODE.test(t)), "the code reply");
  await until(() => api.textsTo(OWNER).length > cardsBefore, "the owner card");
  const code = CODE.exec(api.textsTo(userId).find((t) => CODE.test(t))!)![0];
  const card = api
    .callsOf("sendMessage")
    .filter((c) => String(c.body.chat_id) === String(OWNER))
    .at(-1)!;
  const keyboard = (
    card.body.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }
  ).inline_keyboard;
  const [approve, deny] = keyboard[0]!;
  expect(approve?.text).toBe("Approve");
  expect(deny?.text).toBe("Deny");
  return { code, card, approve: approve!.callback_data, deny: deny!.callback_data };
}

/** Presses a button as Telegram would deliver it and waits for the answerCallbackQuery. */
async function press(
  api: LocalBotApi,
  fromId: number,
  data: string,
  on: { chatId: number; messageId: number; chatType?: string },
): Promise<string> {
  const update = api.callbackQuery(fromId, data, on);
  const queryId = (update.callback_query as { id: string }).id;
  api.push(update);
  await until(
    () => api.callsOf("answerCallbackQuery").some((c) => c.body.callback_query_id === queryId),
    "the press answer",
  );
  return String(api.callsOf("answerCallbackQuery").find((c) => c.body.callback_query_id === queryId)!.body.text);
}

const PRESS_CHAT: Record<
  PressPlace,
  (presser: number, card: ApiCall) => { chatId: number; messageId: number; chatType?: string }
> = {
  "own-dm": (presser, card) => ({ chatId: presser, messageId: card.messageId! }),
  group: () => ({ chatId: -100123, messageId: 5, chatType: "group" }),
  "other-dm": (_presser, card) => ({ chatId: 77, messageId: card.messageId! }),
};

/** Drives the shared refusal table through grammY: updates from the local Bot API, answers via answerCallbackQuery. */
function telegramDriver({ api, gw, clock }: Harness): RefusalDriver {
  let card: ApiCall | null = null;
  return {
    channelType: "telegram",
    owner: String(OWNER),
    gw,
    clock,
    reportsAction: false,
    write: async (userId, text) => void api.push(api.message(Number(userId), text)),
    textsTo: (userId) => api.textsTo(Number(userId)),
    async requestAccess(userId, text) {
      const requested = await requestAccess(api, Number(userId), text);
      card = requested.card;
      return requested;
    },
    press: (token, presser, where) => press(api, Number(presser), token, PRESS_CHAT[where](Number(presser), card!)),
  };
}

describe("telegram channel end to end (local Bot API server, long polling)", () => {
  it("unknown user -> code -> owner card -> Approve callback -> user told -> messages reach the agent", async () => {
    const { api, gw } = await startBot();
    const { code, card, approve } = await requestAccess(api, 42, "hello bot");
    expect(String(card.body.text)).toContain("Alice");
    expect(String(card.body.text)).toContain(code);
    expect(Buffer.byteLength(approve)).toBeLessThanOrEqual(64);
    expect(gw.agentCalls).toHaveLength(0);

    const answer = await press(api, OWNER, approve, { chatId: OWNER, messageId: card.messageId! });
    expect(answer).toMatch(/^Approved/);
    await until(() => api.callsOf("editMessageReplyMarkup").length === 1, "the buttons to be removed");
    expect(api.callsOf("editMessageReplyMarkup")[0]!.body).toMatchObject({
      chat_id: OWNER,
      message_id: card.messageId,
    });
    await until(() => api.textsTo(42).includes("echo: hello bot"), "the first message's reply");
    expect(api.textsTo(42)).toContain("Good news: the owner approved you. You can talk to the assistant now.");

    api.push(api.message(42, "and now?"));
    await until(() => api.textsTo(42).includes("echo: and now?"), "the next reply");
    expect(gw.agentCalls.map((c) => c.sessionId)).toEqual(["telegram:42:42", "telegram:42:42"]);
    const logs = gw.logs.join("\n");
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(code);
    expect(logs).not.toContain(approve);
  });

  it("Deny: the owner sees it, the user is told politely, stays out and is on cooldown", async () => {
    await expectDenyFlow(telegramDriver(await startBot()), "42");
  });

  it("expired, forged, altered, replayed, non-owner and other-chat presses are answered with a refusal and change nothing", async () => {
    await expectButtonRefusals(telegramDriver(await startBot()), "42");
  });

  it("a flood of 20 messages from one unknown sender: one code, one owner DM, no agent call", async () => {
    const { api, gw } = await startBot();
    for (let i = 0; i < 20; i++) api.push(api.message(66, `spam ${i}`));
    // Every update fetched (the next poll confirms offset 21), then stop: stop waits for the handlers still running.
    await until(
      () => api.callsOf("getUpdates").some((c) => Number(c.body.offset) >= 21),
      "all 20 updates to be fetched",
    );
    await harness!.plugin.stop();
    expect(api.textsTo(66).length).toBeGreaterThanOrEqual(1);
    expect(api.textsTo(OWNER)).toHaveLength(1);
    expect(new Set(api.textsTo(66).map((t) => CODE.exec(t)?.[0]))).toEqual(
      new Set([CODE.exec(api.textsTo(66)[0]!)?.[0]]),
    );
    expect(await gw.stores.pairing.listPending("telegram")).toHaveLength(1);
    expect(gw.agentCalls).toHaveLength(0);
  });
});

describe("telegram webhook mode", () => {
  it("refuses updates without the right X-Telegram-Bot-Api-Secret-Token and handles the right ones", async () => {
    const secret = "webhook_secret_0123456789abcdef";
    const { api, gw, adapter } = await startBot("webhook", secret);
    const url = `http://127.0.0.1:${adapter.address()!.port}/telegram/webhook`;
    const update = JSON.stringify({ update_id: 1, ...api.message(42, "via webhook") });
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: update });
    expect((await post({})).status).toBe(401);
    expect((await post({ "X-Telegram-Bot-Api-Secret-Token": "webhook_secret_0123456789abcdeX" })).status).toBe(401);
    expect(gw.agentCalls).toHaveLength(0);
    expect(api.callsOf("sendMessage")).toHaveLength(0);
    expect((await fetch(url.replace("webhook", "other"), { method: "POST", body: update })).status).toBe(404);

    expect((await post({ "X-Telegram-Bot-Api-Secret-Token": secret })).status).toBe(200);
    await until(() => api.textsTo(42).some((t) => CODE.test(t)), "the code reply");
    await until(() => api.textsTo(OWNER).length === 1, "the owner card");
    expect(api.callsOf("getUpdates")).toHaveLength(0);
  });

  it("refuses to start webhook mode with a weak secret token, and a malformed bot token, without echoing them", () => {
    expect(() => new TelegramAdapter({ token: TOKEN, mode: "webhook", webhook: { secretToken: "changeme" } })).toThrow(
      /placeholder/,
    );
    expect(() => new TelegramAdapter({ token: TOKEN, mode: "webhook", webhook: { secretToken: "short" } })).toThrow(
      /too short/,
    );
    expect(() => new TelegramAdapter({ token: "not a token" })).toThrow(/does not look like/);
    expect(() => new TelegramAdapter({ token: "not a token" })).not.toThrow(/not a token/);
    expect(() => new TelegramAdapter({ tokenEnv: "GATEHOUSE_TEST_MISSING_TOKEN" })).toThrow(
      /GATEHOUSE_TEST_MISSING_TOKEN/,
    );
    expect(() => telegramChannel({ tokenEnv: "GATEHOUSE_TEST_MISSING_TOKEN" })).toThrow(
      /needs GATEHOUSE_TEST_MISSING_TOKEN/,
    );
  });
});

describe("telegram start failures", () => {
  it("a token the Bot API refuses fails start with an error that does not contain the token, and leaves no listeners", async () => {
    const api = new LocalBotApi("111:other_token_the_server_knows_abcdefgh");
    const apiRoot = await api.listen();
    const clock = testClock(Date.now());
    const gw = await testGateway({ clock, policy: { ownerUserIds: [String(OWNER)] } });
    try {
      const plugin = channelPlugin(new TelegramAdapter({ token: TOKEN, apiRoot }), { now: clock.now });
      const error = await plugin.start(gw.ctx).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(Error);
      expect(String(error?.message)).not.toContain(TOKEN);
      expect(String(error?.message)).not.toContain(TOKEN.split(":")[1]);
      expect(gw.ctx.events.listenerCount("pairing.approved")).toBe(0);
      expect(gw.logs.join("\n")).not.toContain(TOKEN.split(":")[1]);
    } finally {
      await api.close();
      await gw.close();
    }
  });
});

describe("telegram group chats (grammY, local Bot API server)", () => {
  const GROUP = -100555;
  const inGroup = (api: LocalBotApi, from: number, text: string, options: { replyToBot?: boolean } = {}) =>
    api.push(api.message(from, text, { chatId: GROUP, chatType: "supergroup", firstName: "Dana", ...options }));

  it("only addressed messages count; the group's request goes to the owner as a card, never a code in the group", async () => {
    const { api, gw } = await startBot();
    inGroup(api, 42, "talking among ourselves");
    inGroup(api, 42, "/start@some_other_bot");
    inGroup(api, 42, "hey @gate_test_bot, hello");
    await until(() => api.textsTo(GROUP).length === 1, "one answer in the group");
    expect(api.textsTo(GROUP)).toEqual([DEFAULT_MESSAGES.groupPending]);
    await until(() => api.textsTo(OWNER).length === 1, "the group's card");
    expect(api.textsTo(OWNER)[0]).toContain("A group");
    expect((await gw.stores.pairing.listPending("telegram")).map((p) => p.channelId)).toEqual([`group:${GROUP}`]);
    expect(api.textsTo(42)).toEqual([]);
    expect(gw.agentCalls).toEqual([]);

    const card = api
      .callsOf("sendMessage")
      .filter((c) => String(c.body.chat_id) === String(OWNER))
      .at(-1)!;
    const approve = (card.body.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
      .inline_keyboard[0]![0]!.callback_data;
    expect(await press(api, OWNER, approve, { chatId: OWNER, messageId: card.messageId! })).toMatch(/^Approved/);
    await until(() => api.textsTo(GROUP).includes(DEFAULT_MESSAGES.groupApproved), "the group to hear of it");

    // members policy: the unpaired member is asked to write privately (still no code in the group) ...
    inGroup(api, 42, "/ask@gate_test_bot anything?");
    await until(() => api.textsTo(GROUP).length === 3, "the ask-privately line");
    expect(api.textsTo(GROUP)[2]).toBe(DEFAULT_MESSAGES.groupAskPrivately("Dana"));
    expect(api.textsTo(GROUP).join("\n")).not.toMatch(CODE);
    // ... while the owner, replying to the bot, reaches the agent with the mention-free text and their own session.
    api.push(api.message(OWNER, "just chatting, not to the bot", { chatId: GROUP, chatType: "supergroup" }));
    api.push(api.message(OWNER, "what's up?", { chatId: GROUP, chatType: "supergroup", replyToBot: true }));
    await until(() => api.textsTo(GROUP).includes("echo: what's up?"), "the owner's answer");
    expect(gw.agentCalls.map((c) => c.sessionId)).toEqual([`telegram:${GROUP}:${OWNER}`]);
  });
});
