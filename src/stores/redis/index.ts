import type { OpenStoresOptions } from "../open-options.js";
import type { PairingRules, PairingStoreOptions, Stores } from "../types.js";
import { DEFAULT_PAIRING_RULES } from "../types.js";
import { assertTimeout, RedisConnection, type RedisClientLike } from "./connection.js";
import { connectTarget } from "./topology.js";
import { normalizePrefix, DEFAULT_KEY_PREFIX, RedisKeys } from "./keys.js";
import { AuditTrimmer, resolveAuditRetention, type AuditRetention } from "./audit-retention.js";
import { parseRedisTarget, waitReplicasOf } from "./target.js";
import { indexPairedByType } from "./paired-index.js";
import { RedisPairingStore } from "./pairing.js";
import { RedisSessionBindingStore } from "./session-binding.js";
import { RedisSeenOnceStore } from "./seen-once.js";
import { RedisTokenStore } from "./tokens.js";
import { RedisApprovalStore } from "./approvals.js";
import { RedisBudgetStore } from "./budgets.js";
import { RedisLeaseStore } from "./leases.js";
import { createRedisAnnouncementStore } from "./announcements.js";
import { createRedisSettingsStore } from "./settings.js";
import { RedisConversationStore } from "./conversations.js";
import { checkStoreSecret, resolveStoreSecret, type FingerprintKeeper, type StoreSecret } from "../store-secret.js";

export { RedisPairingStore, RedisSessionBindingStore, RedisTokenStore, DEFAULT_KEY_PREFIX, type RedisClientLike };

export type RedisStoresOptions = OpenStoresOptions;

/** The pairing store's options out of everything openStores() may be given (other backends' options are ignored). */
function pairingOptionsOf(options: RedisStoresOptions, secret: StoreSecret): PairingStoreOptions {
  const picked: PairingStoreOptions = { secret: secret.key, now: options.now, drawCode: options.drawCode };
  for (const rule of Object.keys(DEFAULT_PAIRING_RULES) as (keyof PairingRules)[]) picked[rule] = options[rule];
  return picked;
}

/** The secret's fingerprint under `<prefix>secret-fingerprint`, set once (SET NX) by the first opener. */
function fingerprintKeeper(conn: RedisConnection, prefix: string): FingerprintKeeper {
  const key = `${prefix}secret-fingerprint`;
  const read = async (): Promise<string | null> => {
    const value = await conn.run(() => conn.command(["GET", key]));
    return value === null || value === undefined ? null : String(value);
  };
  return {
    read,
    adopt: async (fingerprint) => {
      await conn.run(() => conn.command(["SET", key, fingerprint, "NX"]));
      return (await read()) ?? fingerprint;
    },
  };
}

async function assemble(
  conn: RedisConnection,
  prefix: string,
  retention: AuditRetention,
  options: RedisStoresOptions,
  secret: StoreSecret,
): Promise<Stores> {
  await checkStoreSecret(`redis (prefix "${prefix}")`, secret, fingerprintKeeper(conn, prefix), options.secretCheck);
  // A read-only open (doctor's "verify") writes nothing; until the sets are built, listing by type reads the hash.
  if (options.secretCheck !== "verify") await indexPairedByType(conn, new RedisKeys(prefix));
  const pairingOptions = pairingOptionsOf(options, secret);
  const sessions = new RedisSessionBindingStore(conn, prefix, {
    now: options.now,
    idleTtlMs: options.sessionIdleTtlMs,
  });
  let pairing: RedisPairingStore;
  try {
    pairing = new RedisPairingStore(conn, prefix, pairingOptions);
  } catch (error) {
    void sessions.close();
    throw error;
  }
  const approvals = new RedisApprovalStore(conn, prefix, { now: options.now });
  const trimmer = new AuditTrimmer(conn, new RedisKeys(prefix).audit, retention);
  await trimmer.start();
  return {
    backend: "redis",
    pairing,
    sessions,
    tokens: new RedisTokenStore(conn, prefix, options.now),
    seen: new RedisSeenOnceStore(conn, prefix),
    approvals,
    budgets: new RedisBudgetStore(conn, prefix, options.now),
    announcements: createRedisAnnouncementStore(conn, prefix, options.now),
    conversations: new RedisConversationStore(conn, prefix),
    leases: new RedisLeaseStore(conn, prefix, options.now),
    settings: createRedisSettingsStore(conn, prefix),
    close: async () => {
      trimmer.stop();
      await approvals.close();
      await pairing.close();
      await sessions.close();
    },
  };
}

/**
 * Opens the Redis stores at `redis://[user:password@]host:port/db[?prefix=name]` (or `rediss://` for TLS), a Redis
 * Cluster at `redis+cluster://host:port,host:port` or the master Sentinels name at
 * `redis+sentinel://host:port,host:port/db?name=mymaster` (see target.ts) with a client of our own: no offline queue, a deadline on every call (`timeoutMs`, default 2000 ms) and reconnection in the
 * background, so a Redis outage makes calls fail fast with StoreUnavailableError and the stores recover on their own.
 * Keys live under `?prefix=` or `options.keyPrefix` (default `gatehouse:`). The audit stream keeps 7 days of events
 * (`?auditRetention=` / `auditRetentionMs`, `?auditMaxLength=` / `auditMaxLength`). Needs the `redis` package installed.
 */
export async function openRedisStores(url: string, options: OpenStoresOptions = {}): Promise<Stores> {
  const timeoutMs = assertTimeout(options.timeoutMs);
  const target = parseRedisTarget(url, options);
  const secret = resolveStoreSecret("redis", options);
  const client = await connectTarget(target, new RedisKeys(target.prefix).audit, timeoutMs);
  const conn = new RedisConnection(client, timeoutMs, true, target.waitReplicas);
  conn.acquire();
  try {
    return await assemble(conn, target.prefix, target.retention, options, secret);
  } finally {
    // the stores hold their own claims on the connection; drop the opening one (closing the client if assembly failed)
    await conn.release();
  }
}

/**
 * The Redis stores on a node-redis client the caller already has (connected or not; we never connect, close or
 * reconfigure it — closing the stores leaves it open). For fail-fast behaviour during an outage, create it with
 * `disableOfflineQueue: true`; every call still has the `timeoutMs` deadline either way. Resolves once the secret has
 * been checked against the one the key prefix was first opened with (the client must be connected by then).
 * The options are openRedisStores()'s query parameters as options: `keyPrefix`, `auditRetentionMs`, `auditMaxLength`
 * and `waitReplicas` (default 0 here, since the kind of client is the caller's: give 1 for a Sentinel or Cluster
 * client, so a reported decision survives a failover).
 */
export async function createRedisStores(client: RedisClientLike, options: RedisStoresOptions = {}): Promise<Stores> {
  if (!client || typeof client.sendCommand !== "function" || typeof client.duplicate !== "function") {
    throw new TypeError("client must be a node-redis client (from createClient() of the redis package)");
  }
  const timeoutMs = assertTimeout(options.timeoutMs);
  const prefix = normalizePrefix(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const retention = resolveAuditRetention(new URLSearchParams(), options);
  const waitReplicas = waitReplicasOf(new URLSearchParams(), options.waitReplicas, 0);
  const secret = resolveStoreSecret("redis", options);
  const conn = new RedisConnection(client, timeoutMs, false, waitReplicas);
  return assemble(conn, prefix, retention, options, secret);
}
