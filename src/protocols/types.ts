/** A value or a promise of it: every protocol method may be sync or async; the gateway always awaits. */
export type MaybePromise<T> = T | Promise<T>;

/** JSON values, the only things a principal or audit detail may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Our own transport-neutral view of a request, so auth backends never depend on the HTTP framework. */
export interface GatewayRequest {
  transport: "http" | "ws";
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The TCP peer address, normalised (`::ffff:1.2.3.4` becomes `1.2.3.4`); "" on the local socket. */
  remoteAddress: string;
  /**
   * How the request reached the gateway, set by the gateway (never from anything the client sends): "local-socket" on
   * its owner-only Unix socket (auth.localSocket), else "tcp". Absent in requests built by hand: treat as "tcp".
   */
  via?: "tcp" | "local-socket";
  query: Record<string, string>;
  /** The WebSocket `connect` frame's params, when transport is "ws". */
  connectParams?: Record<string, unknown>;
}

export interface AuthResult {
  success: boolean;
  userId?: string;
  role?: string;
  metadata: Record<string, unknown>;
}

/**
 * Decides who is calling. Answer `success: false` for anything unrecognised; the role returned is the only role the caller
 * gets (what a client declares about itself is ignored). A `check` that throws counts as `success: false` (fail closed).
 * `owner` and `admin` may approve, deny and revoke. See docs/protocols.md#authprotocol.
 */
export interface AuthProtocol {
  check(request: GatewayRequest): MaybePromise<AuthResult>;
}

export interface PairedChannel {
  channelId: string;
  channelType: string;
  label: string;
  /** Epoch milliseconds. */
  pairedAt: number;
  approvedBy?: string;
}

export type PendingKind = "request" | "invite";

export interface PendingRequest {
  /** `ABCD-EFGH` for a request; masked (`****-****`) for an invite, whose code is a bearer secret. */
  code: string;
  channelType: string;
  /** The sender for a request; "" for an invite. */
  channelId: string;
  userId: string;
  userName: string;
  /** Epoch milliseconds. */
  createdAt: number;
  ageSeconds: number;
  kind: PendingKind;
}

/**
 * Decides whether a sender may talk: pending requests and invites, approvals, pairings. Any object with these six methods
 * is a pairing store (sync or async). The contract, rule by rule, with what is required and what is recommended, is
 * docs/protocols.md#pairingprotocol; `gatehouse/testing` checks it. Optional extras the gateway uses when present
 * (`subscribe`, `deny`, `audit`, `isPairedMany`, `pendingFor`, `health`, `close`) are listed at
 * docs/protocols.md#optional-capabilities with what the gateway does without each.
 */
export interface PairingProtocol {
  /**
   * With a `channelId`: a **request** from that unknown sender; the code is a reference the owner approves. Without one: an
   * **invite** the owner hands out, whose code is a bearer secret. Required: a code of 4-64 letters, digits, dashes or
   * spaces, different for different senders (`code-bound`). Recommended: the same live sender gets the same code back
   * (`same-code`), a cap per channel type that throws `PairingLimitError` (`caps`), errors naming a bad field.
   */
  generateCode(channelType?: string, channelId?: string): MaybePromise<string>;
  /**
   * Required: pairs the requester of a live request when `userId` is that requester (`approve-requester`); `false` with
   * nothing changed when `userId` names someone else (`approve-someone-else`), for codes never issued (`unknown-code`)
   * and for a used code: of concurrent calls for one code exactly one returns true (`single-use`). Recommended: without a
   * `userId` it pairs the requester (`owner-approve`); an invite needs a `userId` and pairs that redeemer (`invites`);
   * codes are bound to their channel type, expire, and repeated failures lock out one redeemer (`guess-limits`).
   */
  approve(channelType: string, code: string, userId?: string, userName?: string): MaybePromise<boolean>;
  /** True exactly for paired senders; false (never a throw) for malformed ids. The hot path: keep it O(1) or indexed. */
  isPaired(channelId: string, channelType: string): MaybePromise<boolean>;
  /**
   * Every paired sender; `label` is the `userName` given at approve. Optional: given a `channelType`, only that type's
   * (found through an index, not by reading every pairing); callers still filter, so a store may ignore it.
   */
  listPaired(channelType?: string): MaybePromise<PairedChannel[]>;
  /** Unpairs; true when the sender was paired. A revoke racing an approve of the same sender ends revoked (`revoke-wins`). */
  revoke(channelId: string, channelType: string): MaybePromise<boolean>;
  /**
   * Required: every live request with its code as the sender saw it (`list-pending`): the owner approves from this list,
   * and a store without `pendingFor` lets the gateway tell repeat senders from new ones through it. Recommended: expired
   * entries left out, invites masked (`invites`).
   */
  listPending(channelType?: string): MaybePromise<PendingRequest[]>;
}

/** Who a session belongs to. Must be JSON-serialisable. */
export interface Principal {
  userId: string;
  role: string;
  [key: string]: JsonValue | undefined;
}

/**
 * Which principal a session belongs to. Required: bind overwrites; lookup returns a copy or null; a principal that is not
 * plain JSON, or a bad session id, is refused with an error naming `principal` / `sessionId`. Built-in stores add
 * `unbind` and an idle TTL. See docs/protocols.md#sessionbindingprotocol.
 */
export interface SessionBindingProtocol {
  /** Binds (or re-binds, overwriting) a session to a principal. */
  bind(sessionId: string, principal: Principal): MaybePromise<void>;
  /** A copy of the bound principal, or null; mutating the copy changes nothing stored. */
  lookup(sessionId: string): MaybePromise<Principal | null>;
}
