/** Options of the WebSocket endpoint, with their defaults (read by the hub and by every connection). */
export interface WebSocketOptions {
  /** Path of the endpoint; default "/ws". */
  path?: string;
  /** Unauthenticated sockets (no hello yet) are closed after this long; default 10 s. */
  connectTimeoutMs?: number;
  /** Ping interval; a socket that missed the previous pong is terminated. Default 30 s. */
  heartbeatMs?: number;
  /** Largest accepted frame, bytes; default 64 KiB (bigger frames close the socket with 1009). */
  maxPayload?: number;
  /** Per-connection token bucket; default 20 frames at once, 10 per second. */
  rateLimit?: { capacity: number; refillPerSecond: number };
  /** Longest a webchat socket waits for pairing approval when the store gives no expiry; default 1 hour. */
  pairingWaitMs?: number;
  /**
   * New webchat pairing requests per network address (a token bucket), so one client cannot fill the pending queue
   * with made-up device ids; default 5 at once, then one per 2 minutes. `false` turns it off (e.g. behind a proxy that
   * hides client addresses, where the store's per-channel-type cap is the only limit).
   */
  webchatRequestLimit?: { capacity: number; refillPerSecond: number } | false;
  /**
   * Sockets that have not said hello yet (including webchat devices waiting for approval), per network address and in
   * all on this instance; past either, new upgrades are refused (429 per address, 503 in all) before the handshake.
   * Default 20 per address, 1000 in all. `false` turns it off.
   */
  unauthenticatedLimit?: { perAddress: number; total: number } | false;
  /** How long a key device has to sign the challenge it was sent on connect; default 60 s. */
  deviceChallengeTtlMs?: number;
}

export type ResolvedWebSocketOptions = Required<WebSocketOptions>;

export const DEFAULT_WEBSOCKET_OPTIONS: ResolvedWebSocketOptions = {
  path: "/ws",
  connectTimeoutMs: 10_000,
  heartbeatMs: 30_000,
  maxPayload: 64 * 1024,
  rateLimit: { capacity: 20, refillPerSecond: 10 },
  pairingWaitMs: 60 * 60_000,
  webchatRequestLimit: { capacity: 5, refillPerSecond: 1 / 120 },
  unauthenticatedLimit: { perAddress: 20, total: 1000 },
  deviceChallengeTtlMs: 60_000,
};
