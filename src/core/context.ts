import type { EventEmitter } from "node:events";
import type { ConversationMemory } from "../conversation/memory.js";
import type { SessionTurns } from "../conversation/turns.js";
import type { ConversationMessage } from "../stores/conversations.js";
import type {
  AuthProtocol,
  MaybePromise,
  PairingProtocol,
  Principal,
  SessionBindingProtocol,
} from "../protocols/types.js";
import type { IncomingHttpHeaders } from "node:http";
import type { BudgetStore } from "../stores/budget.js";
import type {
  AnnouncementStore,
  AuditEvent,
  PairingStore,
  SeenOnceStore,
  SessionBindingStore,
} from "../stores/types.js";
import type { ApprovalService } from "./approvals/service.js";
import type { GatewayLeases } from "./leases.js";
import type { GatewayLogger } from "./logger.js";
import type { GatewayMetrics } from "./metrics.js";
import type { ApprovalAsk, ApprovalResult } from "./approvals/in-process.js";

/** What the agent handler gets for one message. */
export interface AgentMessage {
  text: string;
  /** The session this message belongs to (for chat: `<channelType>:<chatId>:<senderId>`). */
  sessionId: string;
  principal: Principal;
  channelType: string;
  /** The session's earlier turns, oldest first; given only to agents that set `usesHistory`. */
  history?: readonly ConversationMessage[];
}

export type { ConversationMessage };

export interface AgentContext {
  sessionId: string;
  principal: Principal;
  channelType: string;
  /** Aborted when the client goes away or the gateway stops. */
  signal: AbortSignal;
  /**
   * Asks the owner before a risky action (a card in their DM, the console, the CLI; the first decision wins) and waits
   * for the answer. Never approves by itself: no approval store, a store that is down or a stopped turn answer
   * `approved: false` with the reason.
   */
  requestApproval(ask: ApprovalAsk): Promise<ApprovalResult>;
}

/**
 * An agent answers with a whole reply or streams it as chunks. One that sets `usesHistory` gets the session's earlier
 * turns in `message.history`, and the gateway keeps the conversation in its store; others' conversations are not kept.
 */
export interface Agent {
  (message: AgentMessage, context: AgentContext): MaybePromise<string | AsyncIterable<string>>;
  usesHistory?: boolean;
}

export type UnknownUserPolicy = "deny" | "allow" | "pair";

export interface PolicyOptions {
  unknownUserPolicy: UnknownUserPolicy;
  /** Sender ids (or `<channelType>:<senderId>`) always admitted. */
  allowedUsers: string[];
  /**
   * Owners: always admitted, may approve, deny and revoke. Plain ids or `<channelType>:<senderId>`. Owners who claimed
   * a channel with an owner-claim code are kept in the store and count too (src/core/owners.ts).
   */
  ownerUserIds: string[];
}

/** Pairing store as the gateway sees it: the protocol, plus whatever built-in extras the injected object has. */
export type GatewayPairingStore = PairingProtocol & Partial<Omit<PairingStore, keyof PairingProtocol>>;
export type GatewaySessionStore = SessionBindingProtocol &
  Partial<Omit<SessionBindingStore, keyof SessionBindingProtocol>>;

/**
 * Events the gateway emits on `gateway.events`, each with an AuditEvent payload:
 * "pairing.requested", "pairing.approved", "pairing.denied", "pairing.revoked", "pairing.expired" and "audit" (all of them).
 * They come from the store's subscribe(), so approvals made on another instance arrive too.
 */
export type GatewayEventName =
  | "pairing.requested"
  | "pairing.approved"
  | "pairing.denied"
  | "pairing.revoked"
  | "pairing.expired"
  | "audit"
  /** `{ message, channelType, … }`: something a channel wants the owner to see (e.g. a card the platform would not deliver). */
  | "channel.notice"
  /** `{ missed, after }` (AuditResync): the store's feed missed events; re-read from the store what rests on them. */
  | "store.resync";

export type GatewayAuditListener = (event: AuditEvent) => void;

/** What a channel plugin gets from the gateway when it starts. Channels depend on the gateway, never the reverse. */
export interface GatewayContext {
  auth: AuthProtocol;
  pairing: GatewayPairingStore;
  sessions: GatewaySessionStore;
  agent: Agent;
  /** The sessions' conversation memory, for agents that use history. */
  conversations?: ConversationMemory;
  /** One agent turn at a time per session, and `/stop`. */
  turns?: SessionTurns;
  policy: PolicyOptions;
  events: EventEmitter;
  /** The persistent gateway secret; derive per-use keys with deriveKey(secret, purpose). */
  secret: Buffer;
  logger: GatewayLogger;
  /**
   * Atomic rate budgets in the store, shared by every instance (the built-in stores' `budgets`); with injected stores
   * that have none, the gateway keeps them in its own memory.
   */
  budgets?: BudgetStore;
  /** Agents' approval requests; absent when the gateway has no approval store. */
  approvals?: ApprovalService;
  /**
   * Whether a chat user is an owner of the channel (ownerUserIds, or kept in the store after an owner claim): the one
   * authorisation check for approve/deny/revoke, whatever the path. Rejects when the store cannot say (fail closed).
   */
  isOwner(channelType: string, userId: string): Promise<boolean>;
  /** Seen-once keys shared by every instance (webhook de-duplication); absent when the stores were injected without it. */
  seen?: SeenOnceStore;
  /** This instance's leases (one owner per platform connection among instances); absent: the channels hold them per process. */
  leases?: GatewayLeases;
  /** Announcements through the store's feed (every instance hears them): how a channel's notice reaches every console. */
  announcements?: AnnouncementStore;
  /** Where admission decisions and agent turns are counted (the gateway's /metrics); absent: nothing is counted. */
  metrics?: GatewayMetrics;
}

/** The payload of a "channel.notice" event: a line for the owner (no secrets, codes or message text) and its context. */
export interface ChannelNotice {
  message: string;
  channelType: string;
  [field: string]: unknown;
}

export type { GatewayLogger } from "./logger.js";
export type { AgentTurnOutcome, GatewayMetrics } from "./metrics.js";

/**
 * Whether a started channel is doing its job. "degraded": it cannot log in or has stopped receiving (Telegram polling
 * ended or keeps conflicting, the Discord gateway connection is lost, Slack refuses the token). `reason` is written by
 * the adapter from known causes, never from a platform's error text, so it holds no token or message content.
 */
export interface ChannelHealth {
  status: "ok" | "degraded";
  reason?: string;
}

/** A platform's request to a channel's webhook, as the gateway's HTTP server received it (body unparsed, for signatures). */
export interface ChannelHttpRequest {
  method: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

export interface ChannelHttpResponse {
  status: number;
  body?: string;
  contentType?: string;
}

/**
 * A route a channel serves on the gateway's own HTTP server (declared before start, so it is registered before the server
 * listens). It gets the raw body and no gateway auth: the channel checks the platform's signature itself.
 */
export interface ChannelHttpRoute {
  method: "GET" | "POST";
  path: string;
  /** Largest body accepted, bytes (default 1 MB); larger bodies get 413 before the handler runs. */
  bodyLimit?: number;
  handle(request: ChannelHttpRequest): Promise<ChannelHttpResponse>;
}

/** A channel (Telegram, Discord, Slack, …) as the gateway runs it. */
export interface ChannelPlugin {
  readonly channelType: string;
  /** Webhook routes this channel serves on the gateway's HTTP server (none by default). */
  readonly httpRoutes?: readonly ChannelHttpRoute[];
  start(context: GatewayContext): Promise<void>;
  stop(): Promise<void>;
  /** Shown in /healthz; a channel without it counts as ok while started. */
  health?(): ChannelHealth;
}
