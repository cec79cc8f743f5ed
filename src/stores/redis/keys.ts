/**
 * The Redis key layout. Everything a store writes lives under one prefix (default `gatehouse:`), so several gateways
 * can share one Redis. Channel types never contain ':' (see pairing/validation.ts), so `<channelType>:<channelId>`
 * is unambiguous even when the channel id contains ':'.
 *
 *   <p>paired                      hash   "<type>:<id>" -> JSON pairing          (isPaired = one HEXISTS)
 *   <p>paired:type:<type>          set    channel ids paired on one type          (listPaired(type); paired-index.ts)
 *   <p>paired-index                string set once the per-type sets are complete
 *   <p>pending:<hash>              hash   one pending entry (code hash = HMAC)    (native TTL as a safety net)
 *   <p>pending:all                 zset   every pending entry, score = expiresAt  (sweeping expired entries)
 *   <p>pending:type:<type>         zset   pending entries of one type             (the cap, listPending(type))
 *   <p>request:<type>:<id>         string code hash of the sender's live request (idempotent generateCode, revoke)
 *   <p>cooldown:<type>:<id>        string deny cooldown end, ms
 *   <p>failures:<type>:<redeemer>  hash   failed-redemption window and lockout
 *   <p>seq                         string insertion counter (stable listing order when clocks tie)
 *   <p>audit                       stream audit log and cross-instance events (trimmed: audit-retention.ts)
 *   <p>session:<sessionId>         hash   principal JSON + lastSeen
 *   <p>tokens                      hash   token id -> JSON record (hashes only; tokens.ts)
 *   <p>token-hashes                hash   token hash -> token id (unique)
 *   <p>secret-fingerprint          string fingerprint of the gateway secret the prefix was first opened with
 *   <p>lease:<name>                hash   a lease: holder, fencing token, expiresAt, committed cursor (leases.ts)
 *   <p>leases                      zset   lease names by expiresAt (live leases, instance heartbeats)
 *   <p>setting:<name>              string a run-time setting, e.g. webchat.deviceProof (settings.ts)
 * Every key starts with the prefix (RedisKeys.key()), so on a Redis Cluster, where the prefix carries a hash tag, one
 * store is one slot and the scripts (which derive their keys from the prefix) stay atomic.
 * Pending-entry zset members are "<hash>:<kind>:<type>:<id>" so an entry whose hash vanished by native TTL can still be
 * reported as expired.
 */

export const DEFAULT_KEY_PREFIX = "gatehouse:";

const PREFIX_SHAPE = /^[A-Za-z0-9_.:{}-]{1,100}$/;

/** Validates a prefix and makes it end with ':'. */
export function normalizePrefix(prefix: unknown, field = "keyPrefix"): string {
  if (typeof prefix !== "string" || !PREFIX_SHAPE.test(prefix)) {
    throw new TypeError(`redis ${field} must be 1-100 characters of letters, digits, '_', '.', ':', '{', '}' or '-'`);
  }
  return prefix.endsWith(":") ? prefix : `${prefix}:`;
}

/**
 * The prefix with a Redis Cluster hash tag: `gatehouse:` becomes `{gatehouse}:`, a prefix that has one already stays.
 * Every key of a store starts with its prefix, so all of them hash to one slot and every Lua script (which derives
 * its keys from the prefix) stays atomic on a cluster. New keys must start with the prefix too (RedisKeys.key()).
 */
export function hashTaggedPrefix(prefix: string): string {
  if (/\{[^{}]+\}/.test(prefix)) return prefix;
  return `{${prefix.replace(/:$/, "")}}:`;
}

/** Keys the TypeScript side names directly; the Lua scripts derive the rest from the same prefix. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Any key of this store: the prefix and a name (kept in the prefix's cluster slot). */
  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  get paired(): string {
    return `${this.prefix}paired`;
  }

  get audit(): string {
    return `${this.prefix}audit`;
  }

  get tokens(): string {
    return `${this.prefix}tokens`;
  }

  get tokenHashes(): string {
    return `${this.prefix}token-hashes`;
  }

  session(sessionId: string): string {
    return `${this.prefix}session:${sessionId}`;
  }
}

/** The field of one sender in the `paired` hash. */
export function senderField(channelType: string, channelId: string): string {
  return `${channelType}:${channelId}`;
}
