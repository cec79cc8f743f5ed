import type { StoreSecretOptions } from "./store-secret.js";
import type { PairingStoreOptions } from "./types.js";

/** What openStores() and each backend's opener accept (every backend ignores the options of the others). */
export interface OpenStoresOptions extends PairingStoreOptions, StoreSecretOptions {
  /** Idle TTL for session bindings, milliseconds. */
  sessionIdleTtlMs?: number;
  /** Redis: keys, MariaDB/MySQL: tables are namespaced by this prefix so several gateways can share a server. */
  keyPrefix?: string;
  /** PostgreSQL: the schema to create tables in. */
  schema?: string;
  /** PostgreSQL, MariaDB/MySQL: pool size. */
  poolSize?: number;
  /** How long any store call may take before it fails (closed); milliseconds. */
  timeoutMs?: number;
  /** Redis: audit events older than this are trimmed from the stream (default 7 days; 0 keeps them for ever). */
  auditRetentionMs?: number;
  /** Redis: the audit stream keeps about this many events at most (default: no limit). */
  auditMaxLength?: number;
  /**
   * Redis: how many replicas must hold a pairing decision (WAIT) before it is reported done; 0 waits for none. Default:
   * 1 for `redis+sentinel://` and `redis+cluster://` URLs, 0 for one server and for a client given to createRedisStores.
   */
  waitReplicas?: number;
}
