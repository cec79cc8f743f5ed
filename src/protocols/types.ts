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
  /** The TCP peer address, normalised (`::ffff:1.2.3.4` becomes `1.2.3.4`). */
  remoteAddress: string;
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

export interface PairingProtocol {
  generateCode(channelType?: string, channelId?: string): MaybePromise<string>;
  approve(channelType: string, code: string, userId?: string, userName?: string): MaybePromise<boolean>;
  isPaired(channelId: string, channelType: string): MaybePromise<boolean>;
  listPaired(): MaybePromise<PairedChannel[]>;
  revoke(channelId: string, channelType: string): MaybePromise<boolean>;
  listPending(channelType?: string): MaybePromise<PendingRequest[]>;
}

/** Who a session belongs to. Must be JSON-serialisable. */
export interface Principal {
  userId: string;
  role: string;
  [key: string]: JsonValue | undefined;
}

export interface SessionBindingProtocol {
  /** Binds (or re-binds, overwriting) a session to a principal. */
  bind(sessionId: string, principal: Principal): MaybePromise<void>;
  /** A copy of the bound principal, or null; mutating the copy changes nothing stored. */
  lookup(sessionId: string): MaybePromise<Principal | null>;
}
