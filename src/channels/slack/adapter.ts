import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { App, BlockAction, ButtonAction as SlackButton, HTTPReceiver, types as SlackTypes } from "@slack/bolt";
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
  readRawBody,
  serverAddress,
  SILENT_LOGGER,
  singleHeader,
  type AdapterBaseOptions,
} from "../adapter-support.js";
import { approvalCardText } from "../owner-card.js";
import { actionCardText } from "../action-card.js";
import { clipText, SLACK_MRKDWN, splitText } from "../text/index.js";
import { errorName } from "../redact.js";
import { slackAddressing } from "./addressing.js";
import { verifySlackSignature } from "./signature.js";
import { slackIdentity } from "./connect.js";
import { ChannelStatus } from "../status.js";
import { SLACK_EVENT_ID_TTL_MS, slackEventId } from "./event-id.js";

export interface SlackAdapterOptions extends AdapterBaseOptions {
  /** Bot token (`xoxb-…`); default: the SLACK_BOT_TOKEN environment variable (never logged). */
  botToken?: string;
  botTokenEnv?: string;
  /** Signing secret; default: the SLACK_SIGNING_SECRET environment variable (never logged). */
  signingSecret?: string;
  signingSecretEnv?: string;
  host?: string;
  /** 0 picks a free port (see address()). Default 3000. */
  port?: number;
  /** The Events / Interactivity request URL path. Default /slack/events. */
  path?: string;
  /** Web API root, e.g. for a local test server; default https://slack.com/api/. */
  apiUrl?: string;
  /** Deadline of one auth.test attempt at start; past it the channel logs, shows degraded and tries again (default 10 s). */
  connectTimeoutMs?: number;
  /** First wait before trying auth.test again (default 1 s; doubles up to 30 s). */
  connectBackoffMs?: number;
  /** Clock for the signature replay window. */
  now?: () => number;
}

const MAX_BODY = 1_000_000;
/** Slack: a section block's text is at most 3000 characters; messages are split at the same size. */
const MAX_SECTION = 3000;
const MAX_TEXT = MAX_SECTION;
/** chat.update is Tier 3 (about 50 a minute): one update per 1.2 s of a streamed reply stays under it. */
const EDIT_INTERVAL_MS = 1_200;
export const SLACK_APPROVE_ACTION = "gatehouse_approve";
export const SLACK_DENY_ACTION = "gatehouse_deny";
/** Web API errors that mean the bot token no longer works (Slack's documented error codes, no secret in them). */
const SLACK_AUTH_ERRORS = new Set([
  "invalid_auth",
  "not_authed",
  "token_revoked",
  "token_expired",
  "account_inactive",
  "team_access_not_granted",
]);

/**
 * Slack through @slack/bolt in HTTP mode. Every request is checked here first (v0 signature, five-minute window both
 * ways) on the raw body before Bolt sees it; Bolt then routes messages and Block Kit button actions.
 */
export const SLACK_CAPABILITIES: ChannelCapabilities = { buttons: true, groups: true, gatewayWebhook: false };

export class SlackAdapter implements ChannelAdapter {
  readonly channelType: string;
  readonly capabilities = SLACK_CAPABILITIES;
  private app: App | null = null;
  private receiver: HTTPReceiver | null = null;
  private server: Server | null = null;
  private connecting: AbortController | null = null;
  private logger: GatewayLogger = SILENT_LOGGER;
  private inFlight: InFlight;
  private readonly botToken: string;
  private readonly signingSecret: string;
  private readonly dmChannels = new Map<string, string>();
  private firstSighting: ChannelHandlers["firstSighting"] | null = null;
  private readonly status: ChannelStatus;

  constructor(private readonly options: SlackAdapterOptions = {}) {
    this.channelType = options.channelType ?? "slack";
    this.status = new ChannelStatus(this.channelType, () => this.logger);
    this.botToken = options.botToken ?? tokenFromEnv(options.botTokenEnv ?? "SLACK_BOT_TOKEN", this.channelType);
    this.signingSecret =
      options.signingSecret ?? tokenFromEnv(options.signingSecretEnv ?? "SLACK_SIGNING_SECRET", this.channelType);
    assertStrongSecret(this.signingSecret, "the Slack signing secret", 16);
    this.inFlight = new InFlight(undefined, this.channelType);
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    this.logger = this.options.logger ?? handlers.logger;
    this.firstSighting = handlers.firstSighting;
    this.inFlight = new InFlight(this.logger, this.channelType);
    const bolt = await importChannelSdk("@slack/bolt", this.channelType, () => import("@slack/bolt"));
    const path = this.options.path ?? "/slack/events";
    const receiver = new bolt.HTTPReceiver({
      signingSecret: this.signingSecret,
      endpoints: path,
      logLevel: bolt.LogLevel.ERROR,
    });
    // auth.test with a deadline per attempt (and a log line for each wait); Bolt then needs no call of its own.
    const connecting = new AbortController();
    this.connecting = connecting;
    const identity = await slackIdentity(bolt, this.botToken, {
      ...this.options,
      signal: connecting.signal,
      channelType: this.channelType,
      logger: () => this.logger,
      status: this.status,
    });
    if (this.connecting !== connecting) throw new Error(`${this.channelType} stopped while connecting`);
    this.connecting = null;
    const app = new bolt.App({
      token: this.botToken,
      ...(identity.bot_id && identity.user_id
        ? { botId: identity.bot_id, botUserId: identity.user_id, tokenVerificationEnabled: false }
        : {}),
      receiver,
      deferInitialization: true,
      logLevel: bolt.LogLevel.ERROR,
      ...(this.options.apiUrl ? { clientOptions: { slackApiUrl: this.options.apiUrl } } : {}),
    });
    this.app = app;
    this.receiver = receiver;
    this.wire(app, handlers);
    await app.init();
    const server = createServer((req, res) => void this.onRequest(req, res, path));
    this.server = server;
    await listenOn(server, this.options.port ?? 3000, this.options.host);
    this.logger.info("slack channel started", { channelType: this.channelType });
  }

  async stop(): Promise<void> {
    this.connecting?.abort();
    this.connecting = null;
    const server = this.server;
    this.server = null;
    await closeServer(server);
    await this.inFlight.settle();
    this.app = null;
  }

  address(): AddressInfo | null {
    return serverAddress(this.server);
  }

  async send(chatId: string, text: string): Promise<void> {
    for (const part of splitText(text, MAX_TEXT))
      await this.api((client) => client.chat.postMessage({ channel: chatId, text: part }));
  }

  async sendApprovalCard(ownerId: string, request: ApprovalRequest): Promise<void> {
    // mrkdwn with &, <, > escaped and the requester's text in code spans; verbatim: Slack auto-links nothing.
    const text = clipText(approvalCardText(request, SLACK_MRKDWN), MAX_SECTION);
    await this.api((client) => client.chat.postMessage({ channel: ownerId, text, blocks: cardBlocks(text, request) }));
  }

  async sendActionCard(ownerId: string, card: ActionCard): Promise<SentCard> {
    const text = clipText(actionCardText(card, SLACK_MRKDWN), MAX_SECTION);
    const sent = await this.api((client) =>
      client.chat.postMessage({ channel: ownerId, text, blocks: cardBlocks(text, card) }),
    );
    return { chatId: String(sent.channel ?? ownerId), messageId: String(sent.ts ?? "") };
  }

  /** Rewrites the card to say who decided; without the actions block its buttons are gone. */
  async closeActionCard(sent: SentCard, card: ActionCard, closing: string): Promise<void> {
    const text = clipText(actionCardText(card, SLACK_MRKDWN, closing), MAX_SECTION);
    await this.api((client) =>
      client.chat.update({ channel: sent.chatId, ts: sent.messageId, text, blocks: cardBlocks(text) }),
    );
  }

  /** The app's DM channel with a user (`D…`), opened once and remembered. */
  async directChatIdFor(userId: string): Promise<string> {
    const known = this.dmChannels.get(userId);
    if (known) return known;
    const opened = await this.api((client) => client.conversations.open({ users: userId }));
    const id = opened.channel?.id;
    if (!id) throw new Error("Slack did not open a direct message channel");
    this.dmChannels.set(userId, id);
    return id;
  }

  private wire(app: App, handlers: ChannelHandlers): void {
    app.message(async ({ message, context }) => {
      if (message.subtype !== undefined || !("user" in message) || !message.user || message.bot_id) return;
      const isDirect = message.channel_type === "im";
      const text = message.text ?? "";
      const parent =
        "parent_user_id" in message && typeof message.parent_user_id === "string" ? message.parent_user_id : undefined;
      const group = isDirect ? { addressed: true, text } : slackAddressing(text, context.botUserId, parent);
      this.inFlight.track(
        handlers.onMessage({
          channelType: this.channelType,
          chatId: message.channel,
          sender: { id: message.user, name: "" },
          text: group.text,
          isDirect,
          addressed: group.addressed,
        }),
      );
    });
    const onAction = async ({
      ack,
      body,
      action,
    }: {
      ack: () => Promise<void>;
      body: BlockAction;
      action: SlackButton;
    }): Promise<void> => {
      await ack();
      this.inFlight.track(this.onPress(handlers, body, action));
    };
    app.action<BlockAction<SlackButton>>(SLACK_APPROVE_ACTION, onAction);
    app.action<BlockAction<SlackButton>>(SLACK_DENY_ACTION, onAction);
    app.error(async (error) =>
      this.logger.error("slack handler failed", { channelType: this.channelType, error: errorName(error) }),
    );
  }

  private async onPress(handlers: ChannelHandlers, body: BlockAction, action: SlackButton): Promise<void> {
    const channel = body.channel?.id ?? "";
    const ts = body.message?.ts;
    const presser = body.user.id;
    await handlePress(
      handlers,
      {
        action:
          action.action_id === SLACK_APPROVE_ACTION
            ? "approve"
            : action.action_id === SLACK_DENY_ACTION
              ? "deny"
              : peekButtonAction(action.value),
        token: action.value ?? "",
        pressedBy: presser,
        chatId: channel,
        isDirect: channel.startsWith("D"),
      },
      async (text, options) => {
        if (options?.removeButtons && channel && ts) {
          const original = typeof body.message?.text === "string" ? body.message.text : "";
          const updated = clipText(`${original}\n\n${SLACK_MRKDWN.escape(text)}`.trim(), MAX_SECTION);
          const blocks = [{ type: "section", text: { type: "mrkdwn", text: updated, verbatim: true } }];
          await this.api((client) => client.chat.update({ channel, ts, text: updated, blocks }));
        } else if (channel) {
          await this.api((client) => client.chat.postEphemeral({ channel, user: presser, text }));
        }
      },
    );
  }

  /** Reads the raw body, checks the signature and window, then hands the buffered request to Bolt. */
  private async onRequest(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method !== "POST" || (req.url ?? "").split("?")[0] !== path) {
      res.writeHead(404).end();
      return;
    }
    let raw: Buffer;
    try {
      raw = await readRawBody(req, MAX_BODY);
    } catch {
      res.writeHead(413).end();
      return;
    }
    const verdict = verifySlackSignature({
      signingSecret: this.signingSecret,
      timestamp: singleHeader(req, "x-slack-request-timestamp"),
      signature: singleHeader(req, "x-slack-signature"),
      body: raw,
      now: (this.options.now ?? Date.now)(),
    });
    if (!verdict.ok) {
      this.logger.warn("slack request refused", { channelType: this.channelType, reason: verdict.reason });
      res.writeHead(401).end();
      return;
    }
    if (!(await this.isFirstDelivery(req, res, raw))) return;
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
    this.receiver?.requestListener(req, res);
  }

  /**
   * Slack retries an event it thinks went unanswered (X-Slack-Retry-Num) and anyone holding a signed request can replay
   * it within the window: the same event_id is handled once by all gateway instances (the store decides). A repeat is
   * acknowledged with 200 so Slack stops retrying; if the store cannot answer, 503 and nothing runs (Slack retries later).
   */
  private async isFirstDelivery(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<boolean> {
    const eventId = slackEventId(raw, singleHeader(req, "content-type"));
    if (eventId === null || !this.firstSighting) return true;
    let first: boolean;
    try {
      first = await this.firstSighting(`event:${eventId}`, SLACK_EVENT_ID_TTL_MS);
    } catch (error) {
      this.logger.warn("slack event refused: the store cannot tell whether it was already handled", {
        channelType: this.channelType,
        error: errorName(error),
      });
      res.writeHead(503).end();
      return false;
    }
    if (!first) {
      this.logger.info("slack event already handled; repeat acknowledged", {
        channelType: this.channelType,
        retryNum: singleHeader(req, "x-slack-retry-num") ?? null,
      });
      res.writeHead(200).end();
    }
    return first;
  }

  /**
   * One message updated as the reply streams (chat.postMessage, then chat.update: Tier 3, about 50 a minute, so at most
   * one per 1.2 s). No typing indicator: Slack's Web API has none for bots outside its Assistant threads.
   */
  readonly streaming: StreamingReplies = {
    maxLength: MAX_TEXT,
    editIntervalMs: EDIT_INTERVAL_MS,
    post: async (chatId, text) =>
      String((await this.api((client) => client.chat.postMessage({ channel: chatId, text }))).ts),
    edit: async (chatId, messageId, text) => {
      await this.api((client) => client.chat.update({ channel: chatId, ts: messageId, text }));
    },
  };

  health(): ChannelHealth {
    return this.status.get();
  }

  /** One Web API call; a refused token (revoked, app uninstalled) shows the channel degraded until a call succeeds again. */
  private async api<T>(call: (client: App["client"]) => Promise<T>): Promise<T> {
    try {
      const result = await call(this.requireApp().client);
      this.status.ok();
      return result;
    } catch (error) {
      const code = (error as { data?: { error?: unknown } } | null)?.data?.error;
      if (typeof code === "string" && SLACK_AUTH_ERRORS.has(code))
        this.status.degraded(`Slack refuses the bot token (${code})`);
      throw error;
    }
  }

  private requireApp(): App {
    if (!this.app) throw new Error("the slack channel is not started");
    return this.app;
  }
}

/** A card's blocks: the text (mrkdwn, verbatim: Slack auto-links nothing), then the buttons when there are tokens. */
function cardBlocks(text: string, tokens?: { approveToken: string; denyToken: string }): SlackTypes.KnownBlock[] {
  const section: SlackTypes.KnownBlock = { type: "section", text: { type: "mrkdwn", text, verbatim: true } };
  if (!tokens) return [section];
  return [
    section,
    {
      type: "actions",
      elements: [
        {
          type: "button",
          action_id: SLACK_APPROVE_ACTION,
          style: "primary",
          text: { type: "plain_text", text: "Approve" },
          value: tokens.approveToken,
        },
        {
          type: "button",
          action_id: SLACK_DENY_ACTION,
          style: "danger",
          text: { type: "plain_text", text: "Deny" },
          value: tokens.denyToken,
        },
      ],
    },
  ];
}
