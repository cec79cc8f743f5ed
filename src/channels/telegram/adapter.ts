import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Bot, Context } from "grammy";
import type { ChannelHealth, GatewayLogger } from "../../core/context.js";
import { peekButtonAction } from "../../pairing/buttons.js";
import { assertStrongSecret } from "../../pairing/secret.js";
import {
  importChannelSdk,
  tokenFromEnv,
  type ActionCard,
  type ApprovalRequest,
  type ChannelCapabilities,
  type ChannelAdapter,
  type ChannelHandlers,
  type SentCard,
  type StreamingReplies,
} from "../channel.js";
import {
  closeServer,
  handlePress,
  InFlight,
  listenOn,
  serverAddress,
  SILENT_LOGGER,
  type AdapterBaseOptions,
} from "../adapter-support.js";
import { approvalCardText } from "../owner-card.js";
import { actionCardText } from "../action-card.js";
import { clipText, splitText, TELEGRAM_HTML } from "../text/index.js";
import { errorName } from "../redact.js";
import { telegramAddressing } from "./addressing.js";
import { ChannelStatus } from "../status.js";
import { connectWithDeadline } from "../connect-with-deadline.js";
import { TelegramPoller } from "./polling.js";
import { TELEGRAM_API_ROOT } from "./probe.js";

export interface TelegramWebhookOptions {
  /** Telegram sends it back in `X-Telegram-Bot-Api-Secret-Token`; requests without it are refused (401). */
  secretToken: string;
  host?: string;
  /** Local port the webhook server listens on (put it behind your HTTPS proxy); default 8788; 0 picks a free one. */
  port?: number;
  path?: string;
  /** The public HTTPS URL Telegram should call; when set, setWebhook is called on start. */
  publicUrl?: string;
}

export interface TelegramAdapterOptions extends AdapterBaseOptions {
  /** The bot token; default: the TELEGRAM_BOT_TOKEN environment variable (never logged). */
  token?: string;
  tokenEnv?: string;
  /** Bot API root, e.g. a local Bot API server; default https://api.telegram.org. */
  apiRoot?: string;
  mode?: "polling" | "webhook";
  webhook?: TelegramWebhookOptions;
  /** Long-polling timeout, seconds (default 30). */
  pollingTimeoutSeconds?: number;
  /** First wait before polling again after a 409 Conflict (default 1 s; doubles up to 30 s). */
  conflictBackoffMs?: number;
  /** How long a 429 may make a send wait (retry_after), at most; default 60 s, with at most 3 retries. */
  maxRetryAfterSeconds?: number;
  /** Deadline of one getMe attempt at start; past it the channel logs, shows degraded and tries again (default 10 s). */
  connectTimeoutMs?: number;
  /** First wait before trying getMe again (default 1 s; doubles up to 30 s). */
  connectBackoffMs?: number;
}

/** Bot API limits: message text 4096 UTF-16 units after entity parsing; answerCallbackQuery text 0-200 characters. */
const MAX_MESSAGE = 4096;
const MAX_CALLBACK_ANSWER = 200;
const MAX_WEBHOOK_BODY = 1_000_000;
const ALLOWED_UPDATES = ["message", "callback_query"] as const;
/** The commands shown in Telegram's menu (setMyCommands). */
export const TELEGRAM_COMMANDS = [
  { command: "pair", description: "Redeem an invite code from the owner: /pair ABCD-EFGH" },
  { command: "new", description: "Start a fresh conversation" },
  { command: "stop", description: "Stop the answer being written" },
] as const;
/**
 * One edit per second per chat keeps a streamed reply under Telegram's flood limits (about one message per second in
 * a chat, 20 per minute in a group); a 429 is still retried after its retry_after by auto-retry.
 */
const EDIT_INTERVAL_MS = 1_000;
/** Deadline of a setup call at start (setMyCommands, setWebhook). */
const SETUP_DEADLINE_MS = 10_000;
/** Every Bot API call's deadline past the long-poll timeout (grammY's own default is 500 s). */
const CALL_DEADLINE_MARGIN_S = 30;

/** Telegram through grammY: long polling or a webhook server with the secret-token header check. */
export const TELEGRAM_CAPABILITIES: ChannelCapabilities = { buttons: true, groups: true, gatewayWebhook: false };

export class TelegramAdapter implements ChannelAdapter {
  readonly channelType: string;
  readonly capabilities = TELEGRAM_CAPABILITIES;
  private bot: Bot | null = null;
  private server: Server | null = null;
  private poller: TelegramPoller | null = null;
  private connecting: AbortController | null = null;
  private readonly status: ChannelStatus;
  private logger: GatewayLogger;
  private inFlight: InFlight;
  private readonly token: string;

  constructor(private readonly options: TelegramAdapterOptions = {}) {
    this.channelType = options.channelType ?? "telegram";
    this.token = options.token ?? tokenFromEnv(options.tokenEnv ?? "TELEGRAM_BOT_TOKEN", this.channelType);
    if (!/^\d+:[A-Za-z0-9_-]+$/.test(this.token)) {
      throw new Error("the Telegram bot token does not look like <digits>:<letters> (as issued by @BotFather)");
    }
    if ((options.mode ?? "polling") === "webhook") {
      if (!options.webhook) throw new Error("telegram webhook mode needs webhook.secretToken");
      assertStrongSecret(options.webhook.secretToken, "telegram webhook.secretToken", 16);
      if (!/^[A-Za-z0-9_-]{16,256}$/.test(options.webhook.secretToken)) {
        throw new Error("telegram webhook.secretToken may only use A-Z, a-z, 0-9, _ and - (16 to 256 characters)");
      }
    }
    this.logger = options.logger ?? SILENT_LOGGER;
    this.inFlight = new InFlight(this.logger, this.channelType);
    this.status = new ChannelStatus(this.channelType, () => this.logger);
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    this.logger = this.options.logger ?? handlers.logger;
    this.inFlight = new InFlight(this.logger, this.channelType);
    const { Bot } = await importChannelSdk("grammy", this.channelType, () => import("grammy"));
    const { autoRetry } = await importChannelSdk(
      "@grammyjs/auto-retry",
      this.channelType,
      () => import("@grammyjs/auto-retry"),
    );
    const timeoutSeconds = (this.options.pollingTimeoutSeconds ?? 30) + CALL_DEADLINE_MARGIN_S;
    const bot = new Bot(this.token, {
      client: { timeoutSeconds, ...(this.options.apiRoot ? { apiRoot: this.options.apiRoot } : {}) },
    });
    this.bot = bot;
    // A 429 (flood control) is retried after Telegram's retry_after, for every call: replies, codes, cards, notices.
    bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: this.options.maxRetryAfterSeconds ?? 60 }));
    this.wire(bot, handlers);
    const connecting = new AbortController();
    this.connecting = connecting;
    await connectWithDeadline(
      // grammY types its signal with the abort-controller shim; Node's AbortSignal is what it gets at run time.
      (signal) => bot.init(signal as Parameters<Bot["init"]>[0]),
      telegramAnswersLater,
      {
        call: "getMe",
        timeoutMs: this.options.connectTimeoutMs ?? 10_000,
        backoffMs: this.options.connectBackoffMs ?? 1_000,
        maxBackoffMs: 30_000,
        signal: connecting.signal,
        host: new URL(this.options.apiRoot ?? TELEGRAM_API_ROOT).host,
        channelType: this.channelType,
        logger: () => this.logger,
        status: this.status,
      },
    );
    if (this.connecting !== connecting) throw new Error(`${this.channelType} stopped while connecting`);
    this.connecting = null;
    await this.registerCommands(bot);
    if ((this.options.mode ?? "polling") === "webhook") await this.startWebhook(bot);
    else this.startPolling(bot, handlers);
    this.logger.info("telegram channel started", {
      channelType: this.channelType,
      mode: this.options.mode ?? "polling",
    });
  }

  async stop(): Promise<void> {
    this.connecting?.abort();
    this.connecting = null;
    const bot = this.bot;
    const server = this.server;
    this.server = null;
    await closeServer(server);
    const poller = this.poller;
    this.poller = null;
    // Aborts an open getUpdates, waits for the update being handled, and releases the lease for another instance.
    await poller?.stop();
    // No new updates arrive now; work already running (a code reply, an owner card) still sends before the bot goes.
    await this.inFlight.settle();
    if (this.bot === bot) this.bot = null;
  }

  /** The webhook server's address (webhook mode), e.g. to learn the port picked for port 0. */
  address(): AddressInfo | null {
    return serverAddress(this.server);
  }

  async send(chatId: string, text: string): Promise<void> {
    const bot = this.requireBot();
    for (const part of splitText(text, MAX_MESSAGE)) await bot.api.sendMessage(chatId, part);
  }

  /** Typing indicator, then one message edited as the reply streams (sendChatAction, sendMessage, editMessageText). */
  readonly streaming: StreamingReplies = {
    maxLength: MAX_MESSAGE,
    editIntervalMs: EDIT_INTERVAL_MS,
    typing: async (chatId) => {
      await this.requireBot().api.sendChatAction(chatId, "typing");
    },
    post: async (chatId, text) => String((await this.requireBot().api.sendMessage(chatId, text)).message_id),
    edit: async (chatId, messageId, text) => {
      await this.requireBot().api.editMessageText(chatId, Number(messageId), text);
    },
  };

  async sendApprovalCard(ownerId: string, request: ApprovalRequest): Promise<void> {
    // HTML parse mode: the requester's name and message are escaped and sit in <code>, where Telegram links nothing.
    await this.requireBot().api.sendMessage(ownerId, approvalCardText(request, TELEGRAM_HTML), {
      ...TELEGRAM_HTML.sendOptions,
      reply_markup: {
        inline_keyboard: [
          [
            { text: "Approve", callback_data: request.approveToken },
            { text: "Deny", callback_data: request.denyToken },
          ],
        ],
      },
    });
  }

  async sendActionCard(ownerId: string, card: ActionCard): Promise<SentCard> {
    const sent = await this.requireBot().api.sendMessage(ownerId, actionCardText(card, TELEGRAM_HTML), {
      ...TELEGRAM_HTML.sendOptions,
      reply_markup: {
        inline_keyboard: [
          [
            { text: "Approve", callback_data: card.approveToken },
            { text: "Deny", callback_data: card.denyToken },
          ],
        ],
      },
    });
    return { chatId: String(sent.chat.id), messageId: String(sent.message_id) };
  }

  /** Edits the card to say who decided; an edit without reply_markup also removes the buttons. */
  async closeActionCard(sent: SentCard, card: ActionCard, text: string): Promise<void> {
    await this.requireBot().api.editMessageText(
      sent.chatId,
      Number(sent.messageId),
      actionCardText(card, TELEGRAM_HTML, text),
      {
        ...TELEGRAM_HTML.sendOptions,
      },
    );
  }

  health(): ChannelHealth {
    return this.status.get();
  }

  /** A private chat's id is the user's id. */
  directChatIdFor(userId: string): string {
    return userId;
  }

  private wire(bot: Bot, handlers: ChannelHandlers): void {
    bot.on("message:text", (ctx) => {
      const from = ctx.from;
      if (!from || from.is_bot) return;
      const isDirect = ctx.chat.type === "private";
      const group = isDirect ? { addressed: true, text: ctx.message.text } : telegramAddressing(ctx.message, ctx.me);
      this.inFlight.track(
        handlers.onMessage({
          channelType: this.channelType,
          chatId: String(ctx.chat.id),
          sender: { id: String(from.id), name: displayName(from) },
          text: group.text,
          isDirect,
          addressed: group.addressed,
          ...("title" in ctx.chat && ctx.chat.title ? { chatName: ctx.chat.title } : {}),
        }),
      );
    });
    bot.on("callback_query:data", (ctx) => this.inFlight.track(this.onPress(ctx, handlers)));
    bot.catch((error) =>
      this.logger.error("telegram update failed", { channelType: this.channelType, error: errorName(error.error) }),
    );
  }

  private async onPress(ctx: Context, handlers: ChannelHandlers): Promise<void> {
    const query = ctx.callbackQuery;
    if (!query?.data) return;
    const message = query.message;
    const chat = message?.chat;
    await handlePress(
      handlers,
      {
        action: peekButtonAction(query.data),
        token: query.data,
        pressedBy: String(query.from.id),
        chatId: chat ? String(chat.id) : "",
        isDirect: chat?.type === "private",
      },
      async (text, options) => {
        await ctx.answerCallbackQuery({ text: clipText(text, MAX_CALLBACK_ANSWER) });
        if (options?.removeButtons && message && chat) {
          await ctx.api.editMessageReplyMarkup(chat.id, message.message_id).catch((error: unknown) =>
            this.logger.warn("could not remove the buttons", {
              channelType: this.channelType,
              error: errorName(error),
            }),
          );
        }
      },
    );
  }

  /** Polls only while this instance holds the lease on this bot (`telegram:<bot id>`); another instance may hold it. */
  private startPolling(bot: Bot, handlers: ChannelHandlers): void {
    const poller = new TelegramPoller(bot, {
      channelType: this.channelType,
      allowedUpdates: ALLOWED_UPDATES,
      timeoutSeconds: this.options.pollingTimeoutSeconds ?? 30,
      status: this.status,
      logger: () => this.logger,
      backoffMs: this.options.conflictBackoffMs ?? 1_000,
      degradedAfter: 3,
      keeper: handlers.lease(`telegram:${bot.botInfo.id}`),
      firstSighting: handlers.firstSighting,
    });
    this.poller = poller;
    poller.start();
  }

  /** Puts /pair in the bot's command menu; a failure is logged, not fatal (typing /pair works without the menu). */
  private async registerCommands(bot: Bot): Promise<void> {
    const signal = AbortSignal.timeout(SETUP_DEADLINE_MS) as Parameters<Bot["api"]["setMyCommands"]>[2];
    await bot.api.setMyCommands([...TELEGRAM_COMMANDS], undefined, signal).catch((error: unknown) =>
      this.logger.warn("could not register the bot's commands", {
        channelType: this.channelType,
        error: errorName(error),
      }),
    );
  }

  private async startWebhook(bot: Bot): Promise<void> {
    const webhook = this.options.webhook!;
    const { webhookCallback } = await importChannelSdk("grammy", this.channelType, () => import("grammy"));
    const callback = webhookCallback(bot, "http", { secretToken: webhook.secretToken, onTimeout: "return" });
    const path = webhook.path ?? "/telegram/webhook";
    const server = createServer((req, res) => void this.onWebhookRequest(req, res, path, callback));
    this.server = server;
    await listenOn(server, webhook.port ?? 8788, webhook.host);
    if (webhook.publicUrl) {
      await bot.api.setWebhook(
        webhook.publicUrl,
        { secret_token: webhook.secretToken, allowed_updates: [...ALLOWED_UPDATES] },
        AbortSignal.timeout(SETUP_DEADLINE_MS) as Parameters<Bot["api"]["setWebhook"]>[2],
      );
    }
  }

  private async onWebhookRequest(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    callback: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  ): Promise<void> {
    if (req.method !== "POST" || (req.url ?? "").split("?")[0] !== path) {
      res.writeHead(404).end();
      return;
    }
    if (Number(req.headers["content-length"] ?? 0) > MAX_WEBHOOK_BODY) {
      res.writeHead(413).end();
      return;
    }
    try {
      await callback(req, res);
    } catch (error) {
      this.logger.warn("telegram webhook request refused", { channelType: this.channelType, error: errorName(error) });
      if (!res.headersSent) res.writeHead(400).end();
    }
  }

  private requireBot(): Bot {
    if (!this.bot) throw new Error("the telegram channel is not started");
    return this.bot;
  }
}

function displayName(user: { first_name: string; last_name?: string; username?: string }): string {
  const full = [user.first_name, user.last_name].filter(Boolean).join(" ").trim();
  return full || (user.username ? `@${user.username}` : "");
}

/** A network failure, a timeout, a rate limit or a server error: the Bot API may answer later (not a 401 or 404). */
function telegramAnswersLater(error: unknown): boolean {
  const code = (error as { error_code?: unknown } | null)?.error_code;
  return typeof code !== "number" || code === 429 || code >= 500;
}
