import type { SettingsStore } from "./settings.js";
import type { ConversationStore } from "./conversations.js";
import type {
  JsonValue,
  PairedChannel,
  PairingProtocol,
  PendingRequest,
  Principal,
  SessionBindingProtocol,
} from "../protocols/types.js";
import type { ApprovalStore } from "./approvals.js";
import type { BudgetStore } from "./budget.js";
import type { LeaseStore } from "./lease.js";
import type { AnnouncedEventType, AuditEvent, AuditEventType, AuditResync, Clock } from "./events.js";

export type { AnnouncedEventType, AuditEvent, AuditEventType, AuditResync, Clock } from "./events.js";

/** Rules every built-in pairing store enforces; all durations in milliseconds. */
export interface PairingRules {
  requestTtlMs: number;
  inviteTtlMs: number;
  maxPendingPerChannelType: number;
  /** Failed redemptions per (redeemer, channel type) inside the window before that redeemer is locked out. */
  redeemFailureLimit: number;
  redeemFailureWindowMs: number;
  lockoutMs: number;
  /** Wrong redemptions of one code before the code is invalidated. */
  codeFailureLimit: number;
  /** After a deny, the same sender may not ask again for this long. */
  denyCooldownMs: number;
}

export const DEFAULT_PAIRING_RULES: PairingRules = {
  requestTtlMs: 60 * 60_000,
  inviteTtlMs: 10 * 60_000,
  maxPendingPerChannelType: 20,
  redeemFailureLimit: 5,
  redeemFailureWindowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000,
  codeFailureLimit: 5,
  denyCooldownMs: 60 * 60_000,
};

export interface PairingStoreOptions extends Partial<PairingRules> {
  /** The gateway secret; the code-hashing key is derived from it. Memory stores make a random one when absent. */
  secret?: Buffer;
  now?: Clock;
  /**
   * Draws one code in canonical form (8 symbols of the code alphabet); default: the CSPRNG. For tests of a broken random
   * source: a store retries a code that is already pending at most MAX_CODE_ATTEMPTS times, then throws
   * CodeGenerationError.
   */
  drawCode?: () => string;
}

/**
 * Options of the built-in session stores.
 *
 * Expiry and last-seen: `bind` writes last-seen; `lookup` writes it only when it is older than the refresh interval,
 * min(60 s, idleTtlMs / 10) (`sessionRefreshIntervalMs` in session-defaults.ts), or ahead of the clock. Otherwise a
 * lookup is a pure read, so a busy session costs about one write a minute instead of one per message. Expiry is exact
 * to within that interval: a session not looked up for `idleTtlMs` is always gone (a lookup refuses it even before any
 * cleanup runs), and a session in use is never dropped earlier than `idleTtlMs` minus the interval after its last
 * lookup. PostgreSQL commits these refreshes asynchronously (last-seen is soft state: a server crash can only bring
 * an expiry forward); binds and unbinds stay durable on every backend.
 */
export interface SessionStoreOptions {
  now?: Clock;
  /** A session not looked up or bound for this long is gone (to within the refresh interval above). Default 24 hours. */
  idleTtlMs?: number;
}

export interface AuditQuery {
  after?: string;
  limit?: number;
  type?: AuditEventType;
  channelType?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Cursor for the next page, or null when this page is the last. */
  next: string | null;
}

export interface GenerateCodeDetails {
  userName?: string;
  /** The blocked first message, handed to the agent once the owner approves. */
  firstMessage?: string;
}

export interface ApproveOptions {
  /** Recorded as `approvedBy` on the pairing and as the audit actor. */
  approvedBy?: string;
  /**
   * A chat user redeeming a code (`/pair CODE`): only invites may be redeemed; a request code is refused and counted as a
   * failed redemption, so nobody can approve their own request by presenting its code.
   */
  inviteOnly?: boolean;
}

export interface PendingDetails extends PendingRequest {
  expiresAt: number;
  firstMessage?: string;
}

/** One chat sender (or webchat device) of one channel type, as isPairedMany asks about it. */
export interface SenderRef {
  channelId: string;
  channelType: string;
}

/** A built-in pairing store: the protocol (always async) plus deny, audit, events, health and close. */
/**
 * Records exported from another store (`gatehouse export`, `migrate`), written as they were: pairings with their
 * labels, times and approvers, and the audit history (new ids, original times and details).
 */
export interface RestoreRecords {
  paired: PairedChannel[];
  audit: Array<Omit<AuditEvent, "id">>;
}

export interface PairingStore extends PairingProtocol {
  generateCode(channelType?: string, channelId?: string, details?: GenerateCodeDetails): Promise<string>;
  approve(
    channelType: string,
    code: string,
    userId?: string,
    userName?: string,
    options?: ApproveOptions,
  ): Promise<boolean>;
  isPaired(channelId: string, channelType: string): Promise<boolean>;
  /**
   * isPaired for many senders in one store round (one read transaction, one command or one query), answers in the
   * order asked; the gateway uses it for the admission checks that pile up in one turn of the event loop.
   */
  isPairedMany(senders: readonly SenderRef[]): Promise<boolean[]>;
  /** Every pairing, in the order made; of one channel type only when given one (an indexed lookup on every backend). */
  listPaired(channelType?: string): Promise<PairedChannel[]>;
  revoke(channelId: string, channelType: string, options?: { revokedBy?: string }): Promise<boolean>;
  listPending(channelType?: string): Promise<PendingRequest[]>;
  /** Refuses a pending request (a recorded decision, never a fake pairing); the sender is on cooldown after. */
  deny(channelType: string, code: string, options?: { deniedBy?: string }): Promise<boolean>;
  /** The live pending request of one sender, with its first message, or null. */
  pendingFor(channelId: string, channelType: string): Promise<PendingDetails | null>;
  audit(query?: AuditQuery): Promise<AuditPage>;
  /**
   * Every audit event from now on, from every process and instance sharing this store, in order. Returns unsubscribe.
   * `onResync` is told when events were trimmed before this subscriber read them (a store with a retention, Redis).
   */
  subscribe(listener: (event: AuditEvent) => void, onResync?: (resync: AuditResync) => void): () => void;
  /** Resolves when the store answers; rejects with StoreUnavailableError otherwise. */
  /**
   * Writes exported records as they were, in one atomic step, without audit events of its own. Restored history is
   * marked with `detail.restored` (true, or the importer's fingerprint of the event), and the gateway acts on no such event (nobody is told "you're in" again).
   * Optional: a store without it is imported through generateCode/approve (pairing times become the import time, and
   * the history stays in the export file).
   */
  restore?(records: RestoreRecords): Promise<void>;
  health(): Promise<void>;
  close(): Promise<void>;
}

export interface SessionBindingStore extends SessionBindingProtocol {
  bind(sessionId: string, principal: Principal): Promise<void>;
  lookup(sessionId: string): Promise<Principal | null>;
  unbind(sessionId: string): Promise<boolean>;
  health(): Promise<void>;
  close(): Promise<void>;
}

/** An API token as stored: only the SHA-256 hash of the token is kept, never the token. */
export interface ApiTokenRecord {
  id: string;
  /** Hex SHA-256 of the token. */
  hash: string;
  role: string;
  userId: string;
  label: string;
  createdAt: number;
}

/**
 * Dumb persistence for API tokens; minting, hashing and checking live in src/auth/token.ts. The built-in stores also
 * append a `token-revoked` audit event when `delete` removes a token, in the same atomic step.
 */
export interface TokenStore {
  insert(record: ApiTokenRecord): Promise<void>;
  findByHash(hash: string): Promise<ApiTokenRecord | null>;
  list(): Promise<ApiTokenRecord[]>;
  /** Deletes by id; true when a token was deleted. */
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
}

/**
 * Keys seen once within a time window, shared by every instance on the store: a platform's redelivered webhook (same
 * message id) is handled by exactly one of them. Entries expire on their own; nothing else reads them.
 */
export interface SeenOnceStore {
  /** Records `key` for `ttlMs`; true for its first sighting in that window, false for a repeat (atomic across instances). */
  firstSighting(key: string, ttlMs: number): Promise<boolean>;
}

/** An event a gateway announces to every instance (a console sign-out, a channel's notice for the owner). */
export interface Announcement {
  type: AnnouncedEventType;
  channelType: string;
  channelId: string;
  actor: string;
  /** Plain JSON; never a code, token, secret or message text. */
  detail: Record<string, JsonValue>;
}

/** Appends announcements to the audit log, which every instance sharing the store follows (`PairingStore.subscribe`). */
export interface AnnouncementStore {
  announce(event: Announcement): Promise<void>;
}

export interface Stores {
  backend: "memory" | "sqlite" | "redis" | "postgres" | "mariadb";
  pairing: PairingStore;
  sessions: SessionBindingStore;
  /** API tokens for tokenAuth; every built-in backend provides it (wired in as each lands). */
  tokens?: TokenStore;
  /** Seen-once keys with a TTL (webhook de-duplication); every built-in backend provides it. */
  seen?: SeenOnceStore;
  /** Agents' approval requests (approvals.ts); every built-in backend provides it. */
  approvals?: ApprovalStore;
  /** Atomic rate budgets shared by every instance on this store (see budget.ts); every built-in backend provides them. */
  budgets?: BudgetStore;
  /** Agents' conversation memory per session (conversations.ts); every built-in backend provides it. */
  conversations?: ConversationStore;
  /** Leases with fencing tokens and committed cursors (lease.ts): one owner per platform connection, instance heartbeats. */
  leases?: LeaseStore;
  /** Announcements through the audit feed, heard by every instance (see AnnouncementStore); every built-in backend has it. */
  announcements?: AnnouncementStore;
  /** Gateway-wide settings an owner changes at run time (settings.ts), e.g. webchat.deviceProof; every built-in backend provides them. */
  settings?: SettingsStore;
  close(): Promise<void>;
}
