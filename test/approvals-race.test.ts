/**
 * Racing decisions on one request from two channels on two gateway instances sharing a Redis store: a Telegram card on
 * each instance (two bots, each with its local Bot API emulator) pressed at the same time as an owner's HTTP approve on
 * the second instance. Exactly one decision wins; everyone else is told what won, and both cards say who decided.
 */
import { afterAll, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { TelegramAdapter } from "../src/channels/telegram/index.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { LocalBotApi, type ApiCall } from "./channels-telegram-api.js";
import { captureLogger, fixedTokenAuth, OWNER_TOKEN, SECRET } from "./gateway-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";
import { until } from "./support/until.js";

const available = await requireRedis();
const prefix = uniquePrefix();
const OWNER = 900;
const AGENT_TOKEN = "agent-token-0123456789abcdef";
const bots = [
  new LocalBotApi("111111:AAH-local_test_token_first_instance_abc"),
  new LocalBotApi("222222:AAH-local_test_token_second_instance_x"),
];
const gateways: Gateway[] = [];

afterAll(async () => {
  for (const gateway of gateways) await gateway.stop();
  for (const bot of bots) await bot.close();
  if (available) await deleteKeys(`${prefix}`);
});

async function instance(bot: LocalBotApi, token: string, channelType: string): Promise<Gateway> {
  const gateway = createGateway({
    auth: fixedTokenAuth({
      [AGENT_TOKEN]: { userId: "agent-1", role: "agent" },
      [OWNER_TOKEN]: { userId: "alice", role: "owner" },
    }),
    store: `${REDIS_URL}?prefix=${prefix}`,
    secret: SECRET,
    logger: captureLogger(),
    policy: { ownerUserIds: [String(OWNER)] },
    channels: [
      channelPlugin(new TelegramAdapter({ token, apiRoot: await bot.listen(), pollingTimeoutSeconds: 1, channelType })),
    ],
    http: { port: 0 },
  });
  await gateway.start();
  gateways.push(gateway);
  return gateway;
}

function cardOn(bot: LocalBotApi): ApiCall | undefined {
  return bot.callsOf("sendMessage").find((c) => String(c.body.chat_id) === String(OWNER) && c.body.reply_markup);
}

function pressUpdate(bot: LocalBotApi, card: ApiCall, button: 0 | 1): string {
  const data = (card.body.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
    .inline_keyboard[0]![button]!.callback_data;
  const update = bot.callbackQuery(OWNER, data, { chatId: OWNER, messageId: card.messageId! });
  bot.push(update);
  return (update.callback_query as { id: string }).id;
}

const answerOf = (bot: LocalBotApi, queryId: string): string | undefined =>
  bot.callsOf("answerCallbackQuery").find((c) => c.body.callback_query_id === queryId)?.body.text as string | undefined;

describe.runIf(available)("racing decisions across channels and instances (Redis)", () => {
  it("exactly one of two card presses and an HTTP approve wins; every card then shows that decision", async () => {
    const [a, b] = [
      await instance(bots[0]!, "111111:AAH-local_test_token_first_instance_abc", "telegram"),
      await instance(bots[1]!, "222222:AAH-local_test_token_second_instance_x", "tg-ops"),
    ];
    const posted = await fetch(`${a.url}/api/approvals`, {
      method: "POST",
      headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        request_id: "race-1",
        tool_name: "transfer_funds",
        arguments: { amount: 100 },
        risk_level: "critical",
        agent_name: "bank",
        session_id: "s",
        context: {},
      }),
    });
    expect(posted.status).toBe(202);
    await until(() => bots.every((bot) => cardOn(bot) !== undefined), "a card from each instance", 4_000);
    const [cardA, cardB] = [cardOn(bots[0]!)!, cardOn(bots[1]!)!];
    // Each channel's cards are sent once, by one instance.
    expect(bots.map((bot) => bot.callsOf("sendMessage").filter((c) => c.body.reply_markup).length)).toEqual([1, 1]);

    const approveA = pressUpdate(bots[0]!, cardA, 0);
    const denyB = pressUpdate(bots[1]!, cardB, 1);
    const http = await fetch(`${b.url}/api/approvals/race-1/approve`, {
      method: "POST",
      headers: { authorization: `Bearer ${OWNER_TOKEN}`, "content-type": "application/json" },
      body: "{}",
    }).then((r) => r.json() as Promise<{ decided: boolean; approval: { status: string; approver: string } }>);
    await until(
      () => answerOf(bots[0]!, approveA) !== undefined && answerOf(bots[1]!, denyB) !== undefined,
      "both press answers",
      4_000,
    );

    const answers = [answerOf(bots[0]!, approveA)!, answerOf(bots[1]!, denyB)!];
    const wins = answers.filter((text) => !text.startsWith("Already decided")).length + (http.decided ? 1 : 0);
    expect(wins, JSON.stringify({ answers, http })).toBe(1);

    const status = async (gateway: Gateway): Promise<unknown> =>
      (
        await fetch(`${gateway.url}/api/approvals/race-1`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } })
      ).json();
    const [fromA, fromB] = [await status(a), await status(b)];
    expect(fromA).toEqual(fromB);
    expect(fromA).toMatchObject({ approver: http.approval.approver });

    const audit = await fetch(`${a.url}/api/audit?limit=1000`, {
      headers: { authorization: `Bearer ${OWNER_TOKEN}` },
    }).then((r) => r.json() as Promise<{ events: Array<{ type: string; channelId: string }> }>);
    const decisions = audit.events.filter((e) => e.channelId === "race-1" && e.type !== "approval-requested");
    expect(decisions).toHaveLength(1);

    const decidedLine = `${http.approval.status === "approved" ? "Approved" : "Denied"} by ${http.approval.approver}.`;
    await until(
      () =>
        [
          [0, cardA],
          [1, cardB],
        ].every(([i, card]) =>
          (bots[i as number]!.textOf(OWNER, (card as ApiCall).messageId!) ?? "").includes(decidedLine),
        ),
      "both cards updated",
      4_000,
    );
  }, 60_000);
});
