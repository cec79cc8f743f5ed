import { webApi } from "@slack/bolt";
import { DiscordAPIError, REST, Routes } from "discord.js";
import { Api, GrammyError } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import { LocalBotApi } from "./channels-telegram-api.js";
import { BotApiError } from "./support/telegram-limits.js";
import { LocalSlackApi } from "./support/slack-web-api.js";
import { DiscordEmulator } from "./support/discord-emulator.js";

const TOKEN = "123456789:AAH-local_test_token_abcdefghijklmnopq";
const SLACK_TOKEN = "xoxb-local-test-token-000000000000";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function telegram(): Promise<{ server: LocalBotApi; api: Api; root: string }> {
  const server = new LocalBotApi(TOKEN);
  const root = await server.listen();
  closers.push(() => server.close());
  return { server, root, api: new Api(TOKEN, { apiRoot: root }) };
}

async function grammyError(call: Promise<unknown>): Promise<GrammyError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GrammyError);
  return error as GrammyError;
}

/** The local Bot API is checked through grammY's own client: the errors a bot meets are the ones Telegram documents. */
describe("the local Telegram Bot API answers as Telegram documents", () => {
  it("401 for a token it does not know, 404 for an unknown method, with the documented body", async () => {
    const { root } = await telegram();
    const wrong = await grammyError(new Api("111:other_token_abcdefghijklmnopqrstu", { apiRoot: root }).getMe());
    expect([wrong.error_code, wrong.description]).toEqual([401, "Unauthorized"]);
    const res = await fetch(`${root}/bot${TOKEN}/noSuchMethod`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error_code: 404, description: "Not Found" });
  });

  it("403 when the user blocked the bot; 429 with parameters.retry_after during a flood wait, again until it ends", async () => {
    const { server, api } = await telegram();
    server.blocked.add(5);
    const blocked = await grammyError(api.sendMessage(5, "hi"));
    expect([blocked.error_code, blocked.description]).toEqual([403, "Forbidden: bot was blocked by the user"]);
    server.floodWait(6, 2);
    const flood = await grammyError(api.sendMessage(6, "hi"));
    expect(flood.error_code).toBe(429);
    expect(flood.parameters.retry_after).toBe(2);
    expect((await grammyError(api.sendMessage(6, "again"))).error_code).toBe(429);
    expect(server.textsTo(6)).toEqual([]);
  });

  it("409 for an overlapping getUpdates (the older poll is terminated) and while a webhook is set", async () => {
    const { server, api } = await telegram();
    const first = grammyError(api.getUpdates({ timeout: 5 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = api.getUpdates({ timeout: 0 });
    const conflict = await first;
    expect(conflict.error_code).toBe(409);
    expect(conflict.description).toMatch(/^Conflict: terminated by other getUpdates request/);
    await second;
    await api.setWebhook("https://example.test/hook");
    expect((await grammyError(api.getUpdates())).description).toMatch(/webhook is active/);
    server.failNext("getUpdates", () => new BotApiError(409, "Conflict: injected"));
    await api.deleteWebhook();
    expect((await grammyError(api.getUpdates())).error_code).toBe(409);
  });

  it("400 past 4096 UTF-16 units after entity parsing, for invalid UTF-8, bad HTML, callback_data over 64 bytes", async () => {
    const { server, api, root } = await telegram();
    await api.sendMessage(7, "x".repeat(4096));
    expect((await grammyError(api.sendMessage(7, "x".repeat(4097)))).description).toBe(
      "Bad Request: message is too long",
    );
    // 2048 emoji are 4096 UTF-16 units: the limit; one more is over, although it is only 2049 code points.
    await api.sendMessage(7, "😀".repeat(2048));
    expect((await grammyError(api.sendMessage(7, "😀".repeat(2049)))).description).toBe(
      "Bad Request: message is too long",
    );
    // Entities do not count: 4096 visible characters inside tags are fine.
    await api.sendMessage(7, `<b>${"x".repeat(4090)}</b>&amp;&lt;`, { parse_mode: "HTML" });
    expect((await grammyError(api.sendMessage(7, "😀".repeat(10).slice(0, 5)))).description).toBe(
      "Bad Request: strings must be encoded in UTF-8",
    );
    const raw = await fetch(`${root}/bot${TOKEN}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]),
    });
    expect((await raw.json()) as unknown).toMatchObject({
      ok: false,
      error_code: 400,
      description: "Bad Request: strings must be encoded in UTF-8",
    });
    expect((await grammyError(api.sendMessage(7, "<x>hi</x>", { parse_mode: "HTML" }))).description).toMatch(
      /can't parse entities: Unsupported start tag "x"/,
    );
    expect((await grammyError(api.sendMessage(7, "a < b", { parse_mode: "HTML" }))).description).toMatch(
      /can't parse entities/,
    );
    const keyboard = (data: string) => ({
      reply_markup: { inline_keyboard: [[{ text: "Approve", callback_data: data }]] },
    });
    await api.sendMessage(7, "card", keyboard("a".repeat(64)));
    expect((await grammyError(api.sendMessage(7, "card", keyboard("é".repeat(33))))).description).toBe(
      "Bad Request: BUTTON_DATA_INVALID",
    );
    expect((await grammyError(api.sendMessage(7, "   "))).description).toBe("Bad Request: message text is empty");
    expect(server.textsTo(7)).toHaveLength(4);
  });

  it("answerCallbackQuery: 200 characters at most, once per query, only for queries it delivered", async () => {
    const { server, api } = await telegram();
    server.push(server.callbackQuery(9, "data", { chatId: 9, messageId: 1 }));
    const [update] = await api.getUpdates();
    const id = update!.callback_query!.id;
    expect((await grammyError(api.answerCallbackQuery(id, { text: "x".repeat(201) }))).description).toBe(
      "Bad Request: MESSAGE_TOO_LONG",
    );
    server.push(server.callbackQuery(9, "data", { chatId: 9, messageId: 1 }));
    const [, second] = await api.getUpdates();
    await api.answerCallbackQuery(second!.callback_query!.id, { text: "x".repeat(200) });
    expect((await grammyError(api.answerCallbackQuery(second!.callback_query!.id))).description).toMatch(
      /query is too old/,
    );
    expect((await grammyError(api.answerCallbackQuery("never-sent"))).description).toMatch(/query ID is invalid/);
  });

  it("setMyCommands checks command names and descriptions", async () => {
    const { server, api } = await telegram();
    await api.setMyCommands([{ command: "pair", description: "Redeem an invite code" }]);
    expect(server.commands).toEqual([{ command: "pair", description: "Redeem an invite code" }]);
    expect((await grammyError(api.setMyCommands([{ command: "Pair", description: "x" }]))).description).toBe(
      "Bad Request: BOT_COMMAND_INVALID",
    );
    expect((await grammyError(api.setMyCommands([{ command: "pair", description: "" }]))).description).toBe(
      "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
    );
  });
});

/** The local Slack Web API through Slack's own WebClient (the one Bolt uses). */
describe("the local Slack Web API answers as Slack documents", () => {
  async function slack(
    token = SLACK_TOKEN,
  ): Promise<{ server: LocalSlackApi; client: webApi.WebClient; slackApiUrl: string }> {
    const server = new LocalSlackApi(SLACK_TOKEN);
    const slackApiUrl = await server.listen();
    closers.push(() => server.close());
    return { server, slackApiUrl, client: new webApi.WebClient(token, { slackApiUrl, retryConfig: { retries: 0 } }) };
  }

  async function platformError(call: Promise<unknown>): Promise<string> {
    const error = (await call.then(
      () => null,
      (e: unknown) => e,
    )) as webApi.WebAPIPlatformError;
    expect(error?.code).toBe(webApi.ErrorCode.PlatformError);
    return error.data.error;
  }

  it("invalid_auth for a wrong token, msg_too_long past 40,000 characters, invalid_blocks past Block Kit limits", async () => {
    const { client } = await slack();
    expect(await platformError((await slack("xoxb-wrong-token-000000000000")).client.auth.test())).toBe("invalid_auth");
    await client.chat.postMessage({ channel: "C1", text: "x".repeat(40_000) });
    expect(await platformError(client.chat.postMessage({ channel: "C1", text: "x".repeat(40_001) }))).toBe(
      "msg_too_long",
    );
    const section = (text: string) => [{ type: "section", text: { type: "mrkdwn", text } }];
    expect(
      await platformError(client.chat.postMessage({ channel: "C1", text: "t", blocks: section("x".repeat(3001)) })),
    ).toBe("invalid_blocks");
    const button = [
      {
        type: "actions",
        elements: [{ type: "button", action_id: "a", text: { type: "plain_text", text: "x".repeat(76) }, value: "v" }],
      },
    ];
    expect(await platformError(client.chat.postMessage({ channel: "C1", text: "t", blocks: button }))).toBe(
      "invalid_blocks",
    );
  });

  it("429 with a Retry-After header while rate limited; WebClient waits that long and then succeeds", async () => {
    const { server, slackApiUrl } = await slack();
    server.rateLimit("chat.postMessage", 1);
    const rejecting = new webApi.WebClient(SLACK_TOKEN, { slackApiUrl, rejectRateLimitedCalls: true });
    const refused = (await rejecting.chat.postMessage({ channel: "C1", text: "hi" }).then(
      () => null,
      (e: unknown) => e,
    )) as webApi.WebAPIRateLimitedError;
    expect(refused.code).toBe(webApi.ErrorCode.RateLimitedError);
    expect(refused.retryAfter).toBe(1);
    server.rateLimit("chat.postMessage", 1);
    const started = Date.now();
    await new webApi.WebClient(SLACK_TOKEN, { slackApiUrl }).chat.postMessage({ channel: "C1", text: "hi" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(server.calls.filter((c) => c.status === 429)).toHaveLength(2);
    expect(server.posts("C1")).toHaveLength(1);
  });
});

/** The local Discord through discord.js's own REST client (the one the Client uses). */
describe("the local Discord REST API answers as Discord documents", () => {
  const DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.local_discord_test_token_abcdefghijkl";

  async function discordRest(token = DISCORD_TOKEN): Promise<{ server: DiscordEmulator; rest: REST }> {
    const server = new DiscordEmulator(DISCORD_TOKEN);
    const api = await server.listen();
    closers.push(() => server.close());
    return { server, rest: new REST({ api, retries: 0 }).setToken(token) };
  }

  async function apiError(call: Promise<unknown>): Promise<DiscordAPIError> {
    const error = await call.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DiscordAPIError);
    return error as DiscordAPIError;
  }

  it("401 for a wrong token, 403 (50007) for a user who does not accept DMs, 400 (50035) past 2000 code points", async () => {
    const { server, rest } = await discordRest();
    const wrong = await apiError((await discordRest("wrong.token.value")).rest.get(Routes.gatewayBot()));
    expect([wrong.status, wrong.code]).toEqual([401, 0]);
    server.addUser({ id: "42", username: "alice" });
    server.closedDms.add("42");
    const closed = await apiError(rest.post(Routes.channelMessages(server.dmOf("42")), { body: { content: "hi" } }));
    expect([closed.status, closed.code]).toEqual([403, 50007]);
    server.closedDms.clear();
    await rest.post(Routes.channelMessages(server.dmOf("42")), { body: { content: "😀".repeat(2000) } });
    const long = await apiError(
      rest.post(Routes.channelMessages(server.dmOf("42")), { body: { content: "x".repeat(2001) } }),
    );
    expect([long.status, long.code]).toEqual([400, 50035]);
  });

  it("429 with retry_after and the rate-limit headers: discord.js's REST waits and then succeeds", async () => {
    const { server, rest } = await discordRest();
    server.addUser({ id: "42", username: "alice" });
    server.rateLimit(`/channels/${server.dmOf("42")}/messages`, 1);
    const started = Date.now();
    await rest.post(Routes.channelMessages(server.dmOf("42")), { body: { content: "hi" } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(server.calls.filter((c) => c.status === 429)).toHaveLength(1);
    expect(server.messagesIn(server.dmOf("42"))).toHaveLength(1);
  });
});
