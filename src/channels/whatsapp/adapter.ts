import type { ChannelHttpRequest, ChannelHttpResponse, ChannelHttpRoute, GatewayLogger } from "../../core/context.js";
import { peekButtonAction, type ButtonAction } from "../../pairing/buttons.js";
import { safeEqual } from "../../pairing/hashing.js";
import { assertStrongSecret } from "../../pairing/secret.js";
import { InFlight, SILENT_LOGGER, type AdapterBaseOptions } from "../adapter-support.js";
import { actionCardText } from "../action-card.js";
import { approvalCardText } from "../owner-card.js";
import { clipText, splitText, WHATSAPP_TEXT } from "../text/index.js";
import type {
  ActionCard,
  ApprovalRequest,
  ChannelCapabilities,
  ChannelAdapter,
  ChannelHandlers,
  SentCard,
} from "../channel.js";
import { errorName } from "../redact.js";
import { GraphClient, WHATSAPP_ERRORS, WhatsAppApiError } from "./graph-api.js";
import { parseNotification, type InboundWhatsApp, type WhatsAppStatus } from "./payload.js";
import { verifyHubSignature } from "./signature.js";

export interface WhatsAppTemplate {
  /** An approved message template that tells the owner a request waits (sent when a card cannot be, see 131047). */
  name: string;
  /** Its language code, e.g. en_US. */
  language: string;
}

export interface WhatsAppAdapterOptions extends AdapterBaseOptions {
  /** The business phone number's id (not the number itself). */
  phoneNumberId: string;
  /** System-user access token (never logged). */
  accessToken: string;
  /** The app secret Meta signs webhook bodies with (never logged). */
  appSecret: string;
  /** The token you typed into the webhook settings; Meta echoes it in the GET handshake. */
  verifyToken: string;
  /** Default https://graph.facebook.com */
  apiBaseUrl?: string;
  /** Graph API version, default v21.0. */
  apiVersion?: string;
  /** Webhook path on the gateway's HTTP server, default /whatsapp/webhook. */
  webhookPath?: string;
  template?: WhatsAppTemplate;
  /** How long a message id is remembered to drop redeliveries (Meta retries for up to 7 days). Default 7 days. */
  dedupTtlMs?: number;
  /** Send retries: attempts (default 4) and first backoff (default 500 ms). */
  attempts?: number;
  backoffMs?: number;
}

export const WHATSAPP_CAPABILITIES: ChannelCapabilities = { buttons: true, groups: false, gatewayWebhook: true };

/** Meta's limits for text and reply buttons. */
export const WHATSAPP_LIMITS = {
  text: 4096,
  interactiveBody: 1024,
  buttonId: 256,
  buttonTitle: 20,
  buttons: 3,
} as const;

const WEEK = 7 * 24 * 60 * 60_000;
const BUTTON_TITLES: Record<ButtonAction, string> = { approve: "Approve", deny: "Deny" };

/**
 * WhatsApp through the Cloud API: Meta's webhook on the gateway's own HTTP server (GET handshake, POST checked against
 * X-Hub-Signature-256 before anything is read), message ids de-duplicated in the store (shared by instances), sending
 * through the Graph API with retries. Owner cards are interactive reply-button messages carrying the signed tokens.
 */
export class WhatsAppAdapter implements ChannelAdapter {
  readonly channelType: string;
  readonly capabilities = WHATSAPP_CAPABILITIES;
  readonly httpRoutes: readonly ChannelHttpRoute[];
  private handlers: ChannelHandlers | null = null;
  private firstSighting: ChannelHandlers["firstSighting"] | null = null;
  private logger: GatewayLogger;
  private inFlight: InFlight;
  private readonly graph: GraphClient;

  constructor(private readonly options: WhatsAppAdapterOptions) {
    this.channelType = options.channelType ?? "whatsapp";
    if (!/^\d+$/.test(options.phoneNumberId ?? ""))
      throw new Error("whatsapp phoneNumberId must be the numeric id of the phone number");
    assertStrongSecret(options.appSecret, "the WhatsApp app secret", 16);
    assertStrongSecret(options.verifyToken, "the WhatsApp webhook verify token", 16);
    assertStrongSecret(options.accessToken, "the WhatsApp access token", 16);
    this.logger = options.logger ?? SILENT_LOGGER;
    this.inFlight = new InFlight(this.logger, this.channelType);
    this.graph = new GraphClient({
      baseUrl: options.apiBaseUrl ?? "https://graph.facebook.com",
      version: options.apiVersion ?? "v21.0",
      phoneNumberId: options.phoneNumberId,
      accessToken: options.accessToken,
      ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
      ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
      logger: () => this.logger,
    });
    const path = options.webhookPath ?? "/whatsapp/webhook";
    this.httpRoutes = [
      { method: "GET", path, handle: async (request) => this.verifySubscription(request) },
      { method: "POST", path, bodyLimit: 3_000_000, handle: (request) => this.onNotification(request) },
    ];
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    this.logger = this.options.logger ?? handlers.logger;
    this.inFlight = new InFlight(this.logger, this.channelType);
    this.firstSighting = handlers.firstSighting;
    this.handlers = handlers;
    this.logger.info("whatsapp channel started", { channelType: this.channelType, webhook: this.httpRoutes[0]!.path });
  }

  async stop(): Promise<void> {
    this.handlers = null;
    await this.inFlight.settle();
  }

  async send(chatId: string, text: string): Promise<void> {
    await this.sendText(chatId, text);
  }

  /** Text in parts of at most 4096 characters; `replyTo` quotes one of the user's messages (WhatsApp's context). */
  private async sendText(to: string, text: string, replyTo?: string): Promise<void> {
    for (const body of splitText(text, WHATSAPP_LIMITS.text)) {
      await this.graph.sendMessage({
        to,
        type: "text",
        text: { body, preview_url: false },
        ...(replyTo ? { context: { message_id: replyTo } } : {}),
      });
    }
  }

  async sendApprovalCard(ownerId: string, request: ApprovalRequest): Promise<void> {
    await this.sendCard(ownerId, approvalCardText(request, WHATSAPP_TEXT), request);
  }

  /** The agent's tool, arguments, agent and session sit in monospace on one line each, clipped, where no link is made. */
  async sendActionCard(ownerId: string, card: ActionCard): Promise<SentCard> {
    return { chatId: ownerId, messageId: await this.sendCard(ownerId, actionCardText(card, WHATSAPP_TEXT), card) };
  }

  /**
   * WhatsApp cannot edit a message: a reply quoting the card says who decided (its buttons then decide nothing). Not to
   * the owner who pressed this card: their press was already answered with a reply, and not to a card never delivered.
   */
  async closeActionCard(sent: SentCard, card: ActionCard, closing: string, approver?: string): Promise<void> {
    if (sent.messageId === "" || approver === `${this.channelType}:${sent.chatId}`) return;
    await this.sendText(sent.chatId, WHATSAPP_TEXT.escape(`${closing} (Ref: ${card.ref})`), sent.messageId);
  }

  /** An interactive reply-button card with the signed tokens as button ids; its message id, or "" outside the window. */
  private async sendCard(
    ownerId: string,
    text: string,
    tokens: { approveToken: string; denyToken: string },
  ): Promise<string> {
    const buttons = (["approve", "deny"] as const).map((action) => ({
      type: "reply",
      reply: { id: action === "approve" ? tokens.approveToken : tokens.denyToken, title: BUTTON_TITLES[action] },
    }));
    try {
      const id = await this.graph.sendMessage({
        to: ownerId,
        type: "interactive",
        interactive: {
          type: "button",
          body: { text: clipText(text, WHATSAPP_LIMITS.interactiveBody) },
          action: { buttons },
        },
      });
      // Remembered in the store, so a later "failed: 131047" status for it is known as a card on any instance.
      if (id !== "") await this.seenOnce()(`card:${id}`, WEEK);
      return id;
    } catch (error) {
      if (!(error instanceof WhatsAppApiError && error.code === WHATSAPP_ERRORS.reEngagement)) throw error;
      await this.outsideWindow(ownerId);
      return "";
    }
  }

  /** A WhatsApp chat with a person is addressed by their WhatsApp id. */
  directChatIdFor(userId: string): string {
    return userId;
  }

  /** GET: Meta's subscription handshake; answers the challenge only for the configured verify token. */
  private verifySubscription(request: ChannelHttpRequest): ChannelHttpResponse {
    const mode = request.query.get("hub.mode");
    const token = request.query.get("hub.verify_token") ?? "";
    const challenge = request.query.get("hub.challenge") ?? "";
    if (mode !== "subscribe" || !safeEqual(token, this.options.verifyToken) || challenge === "") {
      this.logger.warn("whatsapp webhook verification refused", { channelType: this.channelType });
      return { status: 403, body: "forbidden", contentType: "text/plain" };
    }
    return { status: 200, body: challenge, contentType: "text/plain" };
  }

  /** POST: signature first (nothing is parsed or stored before it passes), then each new message is handled once. */
  private async onNotification(request: ChannelHttpRequest): Promise<ChannelHttpResponse> {
    if (!verifyHubSignature(request.rawBody, request.headers["x-hub-signature-256"], this.options.appSecret)) {
      this.logger.warn("whatsapp webhook refused: bad or missing signature", { channelType: this.channelType });
      return { status: 401, body: "invalid signature", contentType: "text/plain" };
    }
    const handlers = this.handlers;
    if (!handlers) return { status: 503, body: "not started", contentType: "text/plain" };
    const notification = parseNotification(request.rawBody, this.options.phoneNumberId);
    if (!notification) return { status: 400, body: "not a WhatsApp notification", contentType: "text/plain" };
    try {
      for (const inbound of notification.messages) {
        if (await this.firstTime(`msg:${inbound.message.id}`)) this.inFlight.track(this.dispatch(inbound, handlers));
      }
      for (const status of notification.statuses) {
        if (isWindowFailure(status) && (await this.firstTime(`status:${status.id}:failed`))) {
          this.inFlight.track(this.onFailedStatus(status));
        }
      }
    } catch (error) {
      // The store is down: refuse, so Meta delivers again later instead of the message being handled twice or lost.
      this.logger.warn("whatsapp webhook deferred: store unavailable", {
        channelType: this.channelType,
        error: errorName(error),
      });
      return { status: 503, body: "try again later", contentType: "text/plain" };
    }
    return { status: 200, body: "ok", contentType: "text/plain" };
  }

  private firstTime(key: string): Promise<boolean> {
    return this.seenOnce()(key, this.options.dedupTtlMs ?? WEEK);
  }

  private async dispatch({ message, name }: InboundWhatsApp, handlers: ChannelHandlers): Promise<void> {
    if (message.type === "text" && message.text) {
      return handlers.onMessage({
        channelType: this.channelType,
        chatId: message.from,
        sender: { id: message.from, name },
        text: message.text.body,
        isDirect: true,
      });
    }
    const reply = message.interactive?.button_reply;
    if (message.type !== "interactive" || !reply) return;
    let answered = false;
    await handlers.onButton({
      // The title is what Meta reports was pressed; the signed token must agree with it.
      action: actionOfTitle(reply.title) ?? peekButtonAction(reply.id),
      token: reply.id,
      pressedBy: message.from,
      chatId: message.from,
      isDirect: true,
      // The answer quotes the press, so the owner sees which card it is about (messages cannot be edited on WhatsApp).
      answer: async (text) => {
        if (answered) return;
        answered = true;
        await this.sendText(message.from, text, message.id);
      },
    });
  }

  /** A card Meta could not deliver because the owner's 24-hour window is closed (reported later as a failed status). */
  private async onFailedStatus(status: WhatsAppStatus): Promise<void> {
    const wasCard = !(await this.seenOnce()(`card:${status.id}`, WEEK));
    if (wasCard) await this.outsideWindow(status.recipient_id);
  }

  /** Says so in the log (and the console's feed), then sends the approved template instead, when one is configured. */
  private async outsideWindow(ownerId: string): Promise<void> {
    const template = this.options.template;
    this.handlers?.notice("an approval card could not be delivered: the owner's 24-hour WhatsApp window is closed", {
      channelType: this.channelType,
      error: WHATSAPP_ERRORS.reEngagement,
      fallback: template ? "template" : "none (approve from the console or CLI)",
    });
    if (!template) return;
    await this.graph.sendMessage({
      to: ownerId,
      type: "template",
      template: { name: template.name, language: { code: template.language } },
    });
  }

  private seenOnce(): ChannelHandlers["firstSighting"] {
    if (!this.firstSighting) throw new Error("the whatsapp channel is not started");
    return this.firstSighting;
  }
}

function isWindowFailure(status: WhatsAppStatus): boolean {
  return status.status === "failed" && (status.errors ?? []).some((e) => e.code === WHATSAPP_ERRORS.reEngagement);
}

function actionOfTitle(title: string): ButtonAction | null {
  if (title === BUTTON_TITLES.approve) return "approve";
  if (title === BUTTON_TITLES.deny) return "deny";
  return null;
}
