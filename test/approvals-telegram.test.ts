/**
 * The full trip through a real Telegram bot (grammY against the local Bot API emulator): an agent asks the way
 * PraisonAI's WebhookApproval does, the owner gets a card in their DM, presses Approve, the agent's next poll has the
 * answer. Forged and replayed presses change nothing. The trip's timings are logged as "approval trip: ...".
 */
import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { TelegramAdapter } from "../src/channels/telegram/index.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { LocalBotApi, type ApiCall } from "./channels-telegram-api.js";
import { captureLogger, fixedTokenAuth, OWNER_TOKEN, SECRET } from "./gateway-helpers.js";
import { requestApproval } from "./support/webhook-approval-client.js";
import { until } from "./support/until.js";

const TOKEN = "123456789:AAH-local_test_token_abcdefghijklmnopq";
const OWNER = 900;
const AGENT_TOKEN = "agent-token-0123456789abcdef";

let api: LocalBotApi | undefined;
let gateway: Gateway | undefined;

afterEach(async () => {
  await gateway?.stop();
  await api?.close();
  gateway = undefined;
  api = undefined;
});

async function start(): Promise<{ api: LocalBotApi; gateway: Gateway; logger: ReturnType<typeof captureLogger> }> {
  api = new LocalBotApi(TOKEN);
  const apiRoot = await api.listen();
  const logger = captureLogger();
  gateway = createGateway({
    auth: fixedTokenAuth({
      [AGENT_TOKEN]: { userId: "agent-1", role: "agent" },
      [OWNER_TOKEN]: { userId: "alice", role: "owner" },
    }),
    store: "memory:",
    secret: SECRET,
    logger,
    policy: { ownerUserIds: [`telegram:${OWNER}`] },
    channels: [channelPlugin(new TelegramAdapter({ token: TOKEN, apiRoot, pollingTimeoutSeconds: 1 }))],
    http: { port: 0 },
  });
  await gateway.start();
  return { api, gateway, logger };
}

interface Card {
  call: ApiCall;
  approve: string;
  deny: string;
}

function cardOf(call: ApiCall): Card {
  const keyboard = (call.body.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
    .inline_keyboard[0]!;
  return { call, approve: keyboard[0]!.callback_data, deny: keyboard[1]!.callback_data };
}

async function nextCard(bot: LocalBotApi, before: number): Promise<Card> {
  const cards = (): ApiCall[] =>
    bot.callsOf("sendMessage").filter((c) => String(c.body.chat_id) === String(OWNER) && c.body.reply_markup);
  await until(() => cards().length > before, "the action card", 4_000);
  return cardOf(cards().at(-1)!);
}

async function press(bot: LocalBotApi, data: string, messageId: number, from = OWNER): Promise<string> {
  const update = bot.callbackQuery(from, data, { chatId: from, messageId });
  const queryId = (update.callback_query as { id: string }).id;
  bot.push(update);
  await until(
    () => bot.callsOf("answerCallbackQuery").some((c) => c.body.callback_query_id === queryId),
    "the press answer",
    4_000,
  );
  return String(bot.callsOf("answerCallbackQuery").find((c) => c.body.callback_query_id === queryId)!.body.text);
}

describe("approvals on Telegram", () => {
  it("a WebhookApproval-style agent is approved from the owner's Telegram card; the card then says who decided", async () => {
    const { api: bot, gateway: gw, logger } = await start();
    const marks: Record<string, number> = {};
    let card: Card | undefined;
    const t0 = performance.now();
    const decision = await requestApproval(
      {
        tool_name: "execute_command",
        arguments: { command: "rm -rf ./build\n<b>sure</b> https://evil.example" },
        risk_level: "high",
        agent_name: "assistant",
        session_id: "chat-7",
        context: {},
      },
      {
        webhookUrl: `${gw.url}/api/approvals`,
        headers: { Authorization: `Bearer ${AGENT_TOKEN}` },
        pollIntervalMs: 100,
        timeoutMs: 20_000,
        onPosted: async () => {
          marks.posted = performance.now();
          card = await nextCard(bot, 0);
          marks.card = performance.now();
          expect(await press(bot, card.approve, card.call.messageId!)).toBe(
            "Approved: the agent may run execute_command.",
          );
          marks.pressed = performance.now();
        },
      },
    );
    marks.answered = performance.now();
    expect(decision).toMatchObject({ approved: true, approver: `telegram:${OWNER}` });
    const ms = (from: number, to: number): string => `${Math.round(to - from)} ms`;
    console.log(
      `approval trip: request->pending ${ms(t0, marks.posted!)}, ->card ${ms(t0, marks.card!)}, ->press answered ${ms(t0, marks.pressed!)}, ` +
        `->poll answer ${ms(t0, marks.answered)} (poll interval 100 ms; ${decision.polls} polls)`,
    );
    // The card quoted the arguments: one line, HTML-escaped inside <code>, so they add no line, link or markup.
    const text = String(card!.call.body.text);
    expect(text).toContain("Tool: “<code>execute_command</code>”");
    expect(text).toContain("&lt;b&gt;sure&lt;/b&gt;");
    expect(text).not.toContain("<b>");
    expect(text.split("\n")).toHaveLength(6);
    await until(
      () => (bot.textOf(OWNER, card!.call.messageId!) ?? "").includes(`Approved by telegram:${OWNER}.`),
      "the card update",
      4_000,
    );
    expect(logger.lines.join("\n")).not.toContain(AGENT_TOKEN);
    expect(logger.lines.join("\n")).not.toContain("rm -rf");
  });

  it("a replayed press, a forged token and a press by someone else change nothing", async () => {
    const { api: bot, gateway: gw } = await start();
    const body = {
      request_id: "replay-1",
      tool_name: "deploy",
      arguments: {},
      risk_level: "medium",
      agent_name: "a",
      session_id: "s",
      context: {},
    };
    const post = await fetch(`${gw.url}/api/approvals`, {
      method: "POST",
      headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(post.status).toBe(202);
    const card = await nextCard(bot, 0);
    const messageId = card.call.messageId!;
    // forged: one character of the MAC changed
    const forged = card.deny.slice(0, -2) + (card.deny.at(-2) === "A" ? "B" : "A") + card.deny.at(-1);
    expect(await press(bot, forged, messageId)).toBe("This button is not valid. Nothing was changed.");
    expect(await press(bot, card.approve, messageId, 901)).toBe("Only the owner can approve or deny requests.");
    const status = async (): Promise<unknown> =>
      (await fetch(`${gw.url}/api/approvals/replay-1`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } })).json();
    expect(await status()).toEqual({ status: "pending" });
    expect(await press(bot, card.deny, messageId)).toBe("Denied: the agent will not run deploy.");
    expect(await press(bot, card.deny, messageId)).toBe(
      "Already decided. Denied by telegram:900. Nothing was changed.",
    );
    expect(await press(bot, card.approve, messageId)).toBe(
      "Already decided. Denied by telegram:900. Nothing was changed.",
    );
    expect(await status()).toEqual({
      approved: false,
      reason: "denied by telegram:900 on telegram",
      approver: "telegram:900",
    });
  });
});
