import type { AdmissionResult, NewRequestBudget } from "../core/admission.js";
import type { ChannelHealth, ChannelHttpRoute, GatewayLogger } from "../core/context.js";
import type { ButtonAction } from "../pairing/buttons.js";
import type { LeaseKeeper } from "../core/lease-keeper.js";

/** One inbound chat message, the same shape whatever the platform. */
export interface InboundMessage {
  channelType: string;
  /** Where the message was written (a DM or a group); replies go here. */
  chatId: string;
  sender: { id: string; name: string };
  text: string;
  /** True for a one-to-one chat between the sender and the bot. */
  isDirect: boolean;
  /**
   * In a group: the bot was mentioned, replied to, or given a command (`/…`). Unaddressed group messages are ignored
   * (absent counts as not addressed); in a direct chat every message is addressed.
   */
  addressed?: boolean;
  /** The group's title, when the platform gives one (shown to owners in the group's approval card). */
  chatName?: string;
}

/** What the owner's Approve/Deny card shows and carries. Tokens are signed for this card's owner. */
export interface ApprovalRequest {
  channelType: string;
  /** Display form, `ABCD-EFGH`. */
  code: string;
  senderId: string;
  senderName: string;
  /** The blocked first message, if any. */
  firstMessage?: string;
  /** Epoch milliseconds when the card was made. */
  createdAt: number;
  /** Epoch milliseconds when the request (and its buttons) expire. */
  expiresAt: number;
  approveToken: string;
  denyToken: string;
  /**
   * Ready-made plain-text card, requester text already one-lined, clipped and quoted; adapters that send markup render
   * their own with approvalCardText(request, <their format>) from owner-card.ts.
   */
  text: string;
}

/** An agent's action waiting for an owner (an approval request), as its card shows it. Tokens are signed for this card's owner. */
export interface ActionCard {
  channelType: string;
  /** The request's reference, display form `ABCD-EFGH` (what the buttons carry; never the request id). */
  ref: string;
  tool: string;
  /** The arguments as JSON text (clipped and quoted when shown). */
  arguments: string;
  risk: string;
  agent: string;
  session: string;
  createdAt: number;
  expiresAt: number;
  approveToken: string;
  denyToken: string;
}

/** Where a card went, so it can be updated once someone decides (on any channel or instance). */
export interface SentCard {
  chatId: string;
  messageId: string;
}

export interface AnswerOptions {
  /** The decision is final (made, or no longer possible): remove the buttons from the card. */
  removeButtons?: boolean;
}

/** A press of an Approve/Deny button, normalised. Every press must be answered exactly once. */
export interface ButtonPress {
  /** The action the platform labelled the press with (checked against the signed token). */
  action: ButtonAction | null;
  token: string;
  pressedBy: string;
  /** The chat the press came from. */
  chatId: string;
  /** True when the press came from a one-to-one chat between the presser and the bot. */
  isDirect: boolean;
  /** Shows the presser a short answer (Telegram: answerCallbackQuery; Discord/Slack: an ephemeral reply). */
  answer(text: string, options?: AnswerOptions): Promise<void>;
}

/** What the router gives an adapter to call back into. */
export interface ChannelHandlers {
  /** The gateway's logger; adapters log through it (never tokens, codes or message text). */
  logger: GatewayLogger;
  onMessage(message: InboundMessage): Promise<void>;
  onButton(press: ButtonPress): Promise<void>;
  /** Something the owner should see (the log and the console's live feed), e.g. a card the platform would not deliver. */
  notice(message: string, fields: Record<string, unknown>): void;
  /**
   * True the first time any gateway instance sees `key` within `ttlMs` (kept in the store), false for a repeat: how an
   * adapter drops a platform's retried or replayed delivery (Slack's event_id). Throws when the store cannot answer.
   */
  firstSighting(key: string, ttlMs: number): Promise<boolean>;
  /**
   * A keeper of the lease `name` for this instance (see core/lease-keeper.ts): how an adapter makes sure exactly one
   * gateway instance holds a platform connection (Telegram's long poll, the Discord gateway). `fields` go on its logs.
   */
  lease(name: string, fields?: Record<string, unknown>): LeaseKeeper;
  /** For channels whose users hold a connection (webchat): admission when they connect, instead of per message. */
  connections: ConnectionHandlers;
}

/**
 * What the router does for a channel whose users hold a connection and are admitted when they connect (webchat), not
 * per message: the same admission, pairing request and owner cards as a chat message, with no message to reply to
 * (the adapter shows the result on the connection) and no first message to replay.
 */
export interface ConnectionHandlers {
  /**
   * A sender connects: admitted, denied, unavailable, or pending with the store's code (asked for once; a new request
   * is paid from `newRequestBudget` when given). A new request sends the owners on this channel their cards.
   */
  arrive(
    sender: { id: string; name?: string },
    options?: { newRequestBudget?: NewRequestBudget },
  ): Promise<AdmissionResult>;
  /**
   * For a connected sender: a function that asks again (before each request) whether they are still admitted, by the
   * same admission with no budget and no cards; it throws GatewayError "unavailable" when the store cannot say. Made
   * once per connection, so what needs no store is decided once.
   */
  readmitter(senderId: string): () => Promise<boolean>;
  /** Whether the store says the sender is paired now (`isPaired` only, never a new code); throws when the store fails. */
  isPaired(senderId: string): Promise<boolean>;
  /** Whether decisions made elsewhere (another instance, the CLI) arrive as events; false: the adapter must poll `isPaired`. */
  readonly decisionsArePushed: boolean;
}

/** An owner's decision about a sender, or its end: what a connection channel shows on that sender's connections. */
export type SenderDecision = "approved" | "denied" | "expired" | "revoked";

/** What a channel can do, declared once instead of probed for at run time. */
export interface ChannelCapabilities {
  /** Owner cards carry Approve/Deny buttons (otherwise the owner approves from the CLI or console). */
  buttons: boolean;
  /** The platform has group chats, so the router applies the group rules. */
  groups: boolean;
  /** Platform requests arrive over HTTP on the gateway's own server (no port of the channel's own). */
  gatewayWebhook: boolean;
}

/**
 * A reply shown while the agent writes it: a typing indicator until the first words, then one message edited as text
 * arrives (a new one when it outgrows the platform's limit). Adapters without it send the reply once it is complete.
 */
export interface StreamingReplies {
  /** The platform's longest message, in UTF-16 units. */
  readonly maxLength: number;
  /** The shortest gap between two edits of one message that stays under the platform's edit rate limit. */
  readonly editIntervalMs: number;
  /** How often "typing…" is sent again while the agent thinks; default 4 s (Telegram clears it after about 5 s). */
  readonly typingIntervalMs?: number;
  /**
   * Shows "typing…" in the chat; the platform clears it after a few seconds, so it is repeated while the agent thinks.
   * Absent where the platform has none for bots (Slack).
   */
  typing?(chatId: string): Promise<void>;
  /** Sends a message and returns its id, for edit(). */
  post(chatId: string, text: string): Promise<string>;
  edit(chatId: string, messageId: string, text: string): Promise<void>;
}

/** A chat platform as the router drives it. Tokens come from env vars and are never logged. */
export interface ChannelAdapter {
  readonly channelType: string;
  readonly capabilities: ChannelCapabilities;
  /** Webhook routes served on the gateway's HTTP server; read when `capabilities.gatewayWebhook` is set. */
  readonly httpRoutes?: readonly ChannelHttpRoute[];
  start(handlers: ChannelHandlers): Promise<void>;
  stop(): Promise<void>;
  send(chatId: string, text: string): Promise<void>;
  /** Present when the platform can show a reply as it streams (see StreamingReplies). */
  readonly streaming?: StreamingReplies;
  /** DMs an owner an Approve/Deny card. */
  sendApprovalCard(ownerId: string, request: ApprovalRequest): Promise<void>;
  /** DMs an owner an Approve/Deny card for an agent's action (adapters without it: owners decide in the console or CLI). */
  sendActionCard?(ownerId: string, card: ActionCard): Promise<SentCard>;
  /**
   * Replaces a sent action card's text with `text` (who decided) and removes its buttons. `approver` is who decided, as
   * the record names them (`<channelType>:<userId>` for a button), so a channel that can only reply may skip the card of
   * the owner whose press was already answered there.
   */
  closeActionCard?(sent: SentCard, card: ActionCard, text: string, approver?: string): Promise<void>;
  /**
   * The chat id of the one-to-one chat with a user, when the platform can name it (Telegram: the user id). Used to check
   * that a press came from the presser's own DM, and to reach a user who is not in a known chat.
   */
  directChatIdFor(userId: string): string | Promise<string>;
  /** Whether the adapter can still log in and receive (see ChannelStatus); absent means ok while started. */
  health?(): ChannelHealth;
  /**
   * Connection channels (webchat) show a decision made anywhere on the sender's open connections themselves (approved:
   * let them in; denied, expired, revoked: close); the router then sends no text and replays nothing. Chat channels
   * leave it out: the router tells the sender in their chat and replays their first message.
   */
  decided?(senderId: string, decision: SenderDecision): Promise<void>;
  /**
   * The store's event feed missed decisions (trimmed before they were read): look up in the store what waits on one
   * (webchat: whether each waiting device is paired now).
   */
  resynced?(): void;
}

/** Thrown when an optional channel SDK is not installed. */
export class MissingChannelPackageError extends Error {
  override readonly name = "MissingChannelPackageError";
  constructor(
    readonly packageName: string,
    channelType: string,
    options?: { cause?: unknown },
  ) {
    super(`the ${channelType} channel needs the "${packageName}" package: npm install ${packageName}`, options);
  }
}

/** Loads an optional SDK with a dynamic import, or throws an error naming the package to install. */
export async function importChannelSdk<T>(
  packageName: string,
  channelType: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new MissingChannelPackageError(packageName, channelType, { cause: error });
    }
    throw error;
  }
}

/** Reads a channel token from an environment variable; refuses empty or placeholder values without echoing them. */
export function tokenFromEnv(variable: string, channelType: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[variable]?.trim();
  if (!value) throw new Error(`the ${channelType} channel needs ${variable} set in the environment`);
  if (PLACEHOLDER_TOKENS.has(value.toLowerCase())) {
    throw new Error(`${variable} is a placeholder value; set the real ${channelType} token`);
  }
  return value;
}

const PLACEHOLDER_TOKENS = new Set([
  "undefined",
  "null",
  "changeme",
  "change-me",
  "token",
  "your-token",
  "xxx",
  "todo",
]);
