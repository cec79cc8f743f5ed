import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  assertUtf8,
  BotApiError,
  badRequest,
  checkCommands,
  checkInlineKeyboard,
  checkMessageText,
  type Entity,
} from "./support/telegram-limits.js";

export interface ApiCall {
  method: string;
  body: Record<string, unknown>;
  /** The HTTP status the Bot API answered with (200, or the error_code). */
  status: number;
  /** For sendMessage: the id of the message the bot sent. */
  messageId?: number;
  /** For a delivered sendMessage: the entities a client shows (explicit ones and detected links, mentions, commands). */
  entities?: Entity[];
}

interface Waiter {
  resolve: () => void;
  reject: (error: BotApiError) => void;
  timer: NodeJS.Timeout;
}

const CONFLICT_POLL =
  "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
const CONFLICT_WEBHOOK =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

/**
 * A local Bot API server for one bot token, on 127.0.0.1, answering as Telegram documents: `{ ok, result }` or
 * `{ ok: false, error_code, description, parameters? }` with the error code as the HTTP status. 401 for a wrong token,
 * 404 for an unknown method, 409 when a second getUpdates overlaps a pending one (the older one is terminated) or a
 * webhook is set, 403 when the user blocked the bot, 429 with `parameters.retry_after` during a flood wait (calls before
 * it ends are refused again), and 400 for the documented limits (see support/telegram-limits.ts).
 * Tests push updates (as Telegram would), inject failures, and read the calls the bot made.
 */
export class LocalBotApi {
  readonly calls: ApiCall[] = [];
  /** Users who blocked the bot: sending to them is 403. */
  readonly blocked = new Set<number>();
  commands: Array<{ command: string; description: string }> = [];
  private readonly server: Server;
  private readonly updates: Array<Record<string, unknown>> = [];
  private readonly injected: Array<{ method: string; error: () => BotApiError }> = [];
  private readonly floodUntil = new Map<string, number>();
  private readonly messages = new Map<string, { hasMarkup: boolean; text?: string }>();
  private readonly openQueries = new Set<string>();
  private webhookUrl = "";
  private nextUpdateId: number;
  private nextMessageId = 100;
  private polling: Waiter | null = null;

  constructor(private token: string) {
    // Update ids grow per bot, across emulators of the same bot in one run, as Telegram's do across restarts.
    this.nextUpdateId = NEXT_UPDATE_ID.get(token) ?? 1;
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (result) =>
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, result })),
        (error: unknown) => {
          const failure = error instanceof BotApiError ? error : new BotApiError(500, "Internal Server Error");
          const body = {
            ok: false,
            error_code: failure.errorCode,
            description: failure.description,
            ...(failure.parameters ? { parameters: failure.parameters } : {}),
          };
          res.writeHead(failure.errorCode, { "content-type": "application/json" }).end(JSON.stringify(body));
        },
      );
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The bot's token is revoked (@BotFather /revoke): every call with it is 401 from now on. */
  /** The bot this token belongs to: Telegram's bot id is the number before the token's colon. */
  private botUser(): typeof BOT_USER {
    const id = Number(this.token.split(":")[0]);
    return { ...BOT_USER, id: Number.isSafeInteger(id) && id > 0 ? id : BOT_USER.id };
  }

  revokeToken(): void {
    this.token = `${this.token}-revoked`;
  }

  /** The next `times` calls of `method` fail with this error (e.g. a 409 from an overlapping poller, a 5xx). */
  failNext(method: string, error: () => BotApiError, times = 1): void {
    for (let i = 0; i < times; i++) this.injected.push({ method, error });
  }

  /** A flood wait: sending to this chat is refused with 429 and retry_after for the next `seconds`. */
  floodWait(chatId: number, seconds: number): void {
    this.floodUntil.set(String(chatId), Date.now() + seconds * 1000);
  }

  /**
   * After a week without updates Telegram numbers the next update at random instead of sequentially (Bot API, Update:
   * update_id): the next update gets `next`, and those after it follow on from there.
   */
  restartUpdateIds(next: number): void {
    this.nextUpdateId = next;
    NEXT_UPDATE_ID.set(this.token, next);
  }

  /** Queues an update for getUpdates; returns its update_id. */
  push(update: Record<string, unknown>): number {
    const id = this.nextUpdateId++;
    NEXT_UPDATE_ID.set(this.token, this.nextUpdateId);
    this.updates.push({ update_id: id, ...update });
    const callback = (update.callback_query as { id?: string } | undefined)?.id;
    if (callback) this.openQueries.add(callback);
    this.wake();
    return id;
  }

  /**
   * A text message from a user, as Telegram delivers it: in their private chat, or in a group (`chatType`), with the
   * entities Telegram marks in incoming text (a leading bot_command, @mentions) and, for `replyToBot`, the bot's message
   * it replies to.
   */
  message(
    fromId: number,
    text: string,
    options: { chatId?: number; chatType?: string; firstName?: string; lastName?: string; replyToBot?: boolean } = {},
  ): Record<string, unknown> {
    const chatId = options.chatId ?? fromId;
    const firstName = options.firstName ?? "User";
    const from = {
      id: fromId,
      is_bot: false,
      first_name: firstName,
      ...(options.lastName ? { last_name: options.lastName } : {}),
    };
    return {
      message: {
        message_id: this.nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat:
          options.chatType && options.chatType !== "private"
            ? { id: chatId, type: options.chatType, title: "A group" }
            : { id: chatId, type: "private", first_name: firstName },
        from,
        text,
        ...incomingEntities(text),
        ...(options.replyToBot
          ? {
              reply_to_message: {
                message_id: 1,
                date: 0,
                chat: { id: chatId, type: options.chatType ?? "private" },
                from: this.botUser(),
                text: "earlier",
              },
            }
          : {}),
      },
    };
  }

  /** A button press on a message the bot sent, as Telegram delivers it. */
  callbackQuery(
    fromId: number,
    data: string,
    on: { chatId: number; messageId: number; chatType?: string },
  ): Record<string, unknown> {
    return {
      callback_query: {
        id: `cq-${this.nextUpdateId}`,
        from: { id: fromId, is_bot: false, first_name: "Presser" },
        chat_instance: "ci-1",
        data,
        message: {
          message_id: on.messageId,
          date: Math.floor(Date.now() / 1000),
          chat:
            on.chatType && on.chatType !== "private"
              ? { id: on.chatId, type: on.chatType, title: "A group" }
              : { id: on.chatId, type: "private", first_name: "Owner" },
          text: "card",
        },
      },
    };
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Texts delivered to one chat (refused sends are not delivered). */
  textsTo(chatId: number): string[] {
    return this.sentTo(chatId).map((c) => String(c.body.text));
  }

  /** sendMessage calls Telegram accepted for one chat. */
  sentTo(chatId: number): ApiCall[] {
    return this.callsOf("sendMessage").filter((c) => c.status === 200 && String(c.body.chat_id) === String(chatId));
  }

  private wake(): void {
    const waiter = this.polling;
    this.polling = null;
    if (!waiter) return;
    clearTimeout(waiter.timer);
    waiter.resolve();
  }

  private async handle(req: IncomingMessage): Promise<unknown> {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? "");
    if (!match) throw new BotApiError(404, "Not Found");
    const method = match[2]!;
    const body = await readJson(req);
    const call: ApiCall = { method, body, status: 200 };
    this.calls.push(call);
    try {
      if (match[1] !== this.token) throw new BotApiError(401, "Unauthorized");
      const injected = this.injected.findIndex((entry) => entry.method === method);
      if (injected >= 0) throw this.injected.splice(injected, 1)[0]!.error();
      assertUtf8(body);
      return await this.serve(method, body, call);
    } catch (error) {
      call.status = error instanceof BotApiError ? error.errorCode : 500;
      throw error;
    }
  }

  private async serve(method: string, body: Record<string, unknown>, call: ApiCall): Promise<unknown> {
    switch (method) {
      case "getMe":
        return {
          ...this.botUser(),
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        };
      case "deleteWebhook":
        this.webhookUrl = "";
        return true;
      case "setWebhook":
        this.webhookUrl = String(body.url ?? "");
        return true;
      case "setMyCommands":
        this.commands = checkCommands(body.commands);
        return true;
      case "getMyCommands":
        return this.commands;
      case "answerCallbackQuery":
        return this.answerCallbackQuery(body);
      case "getUpdates":
        return this.getUpdates(body);
      case "sendMessage":
        return this.sendMessage(body, call);
      case "editMessageReplyMarkup":
        return this.editMarkup(body);
      case "editMessageText":
        return this.editText(body);
      case "sendChatAction":
        if (!["typing", "upload_document", "choose_sticker"].includes(String(body.action)))
          throw badRequest("wrong parameter action in request");
        return true;
      default:
        throw new BotApiError(404, "Not Found");
    }
  }

  private sendMessage(body: Record<string, unknown>, call: ApiCall): unknown {
    const chatId = Number(body.chat_id);
    if (this.blocked.has(chatId)) throw new BotApiError(403, "Forbidden: bot was blocked by the user");
    const until = this.floodUntil.get(String(chatId)) ?? 0;
    if (until > Date.now()) {
      const retryAfter = Math.ceil((until - Date.now()) / 1000);
      throw new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    const { text, entities } = checkMessageText(body.text, body.parse_mode);
    checkInlineKeyboard(body.reply_markup);
    call.messageId = this.nextMessageId++;
    call.entities = entities;
    this.messages.set(`${chatId}/${call.messageId}`, { hasMarkup: body.reply_markup !== undefined, text });
    return {
      message_id: call.messageId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: "private", first_name: "X" },
      text,
      ...(entities.length ? { entities } : {}),
    };
  }

  /** The text a chat shows now for each message the bot sent there (after its edits), oldest first. */
  shownIn(chatId: number): string[] {
    const shown: string[] = [];
    for (const [key, message] of this.messages)
      if (key.startsWith(`${chatId}/`) && message.text !== undefined) shown.push(message.text);
    return shown;
  }

  private editMarkup(body: Record<string, unknown>): unknown {
    const message = this.messages.get(`${Number(body.chat_id)}/${Number(body.message_id)}`);
    if (!message) throw badRequest("message to edit not found");
    checkInlineKeyboard(body.reply_markup);
    const hasMarkup = body.reply_markup !== undefined;
    if (!hasMarkup && !message.hasMarkup) {
      throw badRequest(
        "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
      );
    }
    message.hasMarkup = hasMarkup;
    return {
      message_id: Number(body.message_id),
      date: 0,
      chat: { id: Number(body.chat_id), type: "private", first_name: "X" },
      text: "card",
    };
  }

  /** editMessageText: the text is checked like sendMessage's; without reply_markup the inline keyboard is removed. */
  private editText(body: Record<string, unknown>): unknown {
    const message = this.messages.get(`${Number(body.chat_id)}/${Number(body.message_id)}`);
    if (!message) throw badRequest("message to edit not found");
    const { text } = checkMessageText(body.text, body.parse_mode);
    checkInlineKeyboard(body.reply_markup);
    const hasMarkup = body.reply_markup !== undefined;
    if (text === message.text && hasMarkup === message.hasMarkup) {
      throw badRequest(
        "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
      );
    }
    Object.assign(message, { text, hasMarkup });
    return {
      message_id: Number(body.message_id),
      date: 0,
      chat: { id: Number(body.chat_id), type: "private", first_name: "X" },
      text,
    };
  }

  /** The current text of a message the bot sent (after any edits). */
  textOf(chatId: number, messageId: number): string | undefined {
    return this.messages.get(`${chatId}/${messageId}`)?.text;
  }

  private answerCallbackQuery(body: Record<string, unknown>): boolean {
    const id = String(body.callback_query_id ?? "");
    if (!this.openQueries.delete(id))
      throw badRequest("query is too old and response timeout expired or query ID is invalid");
    if (typeof body.text === "string" && body.text.length > 200) throw badRequest("MESSAGE_TOO_LONG");
    return true;
  }

  private async getUpdates(body: Record<string, unknown>): Promise<unknown[]> {
    if (this.webhookUrl) throw new BotApiError(409, CONFLICT_WEBHOOK);
    // A second poller terminates the one already waiting, as Telegram does.
    const previous = this.polling;
    this.polling = null;
    if (previous) {
      clearTimeout(previous.timer);
      previous.reject(new BotApiError(409, CONFLICT_POLL));
    }
    const offset = typeof body.offset === "number" ? body.offset : 0;
    // Confirmed updates are dropped, as Telegram does.
    while (this.updates.length > 0 && Number(this.updates[0]!.update_id) < offset) this.updates.shift();
    const timeout = typeof body.timeout === "number" ? body.timeout : 0;
    if (this.updates.length === 0 && timeout > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (this.polling?.timer === timer) this.polling = null;
          resolve();
        }, timeout * 1000);
        this.polling = { resolve, reject, timer };
      });
    }
    const limit = typeof body.limit === "number" ? body.limit : 100;
    return this.updates.filter((u) => Number(u.update_id) >= offset).slice(0, limit);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  if (raw.length === 0) return {};
  // Telegram reads bodies as UTF-8; bytes that are not are refused like a lone surrogate.
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw badRequest("strings must be encoded in UTF-8");
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw badRequest("can't parse request JSON object");
  }
}

/** The next update id of each bot token, shared by every emulator of that bot in this process. */
const NEXT_UPDATE_ID = new Map<string, number>();

const BOT_USER = { id: 4242, is_bot: true, first_name: "Gate", username: "gate_test_bot" };

/** The entities Telegram attaches to incoming text: a bot_command at the start, and every @username mention. */
function incomingEntities(text: string): { entities?: Array<{ type: string; offset: number; length: number }> } {
  const entities: Array<{ type: string; offset: number; length: number }> = [];
  const command = /^\/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{5,32})?/.exec(text);
  if (command) entities.push({ type: "bot_command", offset: 0, length: command[0].length });
  for (const mention of text.matchAll(/(?<![\w@/])@[A-Za-z0-9_]{5,32}/g)) {
    if (mention.index !== 0 || !command)
      entities.push({ type: "mention", offset: mention.index, length: mention[0].length });
  }
  return entities.length > 0 ? { entities } : {};
}
