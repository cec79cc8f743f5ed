import { byName, checkLeaseInput, checkPrunePrefix, type Lease, type LeaseState, type LeaseStore } from "../lease.js";
import type { Clock } from "../types.js";
import type { RedisConnection } from "./connection.js";
import { script } from "./scripts.js";

/**
 * KEYS[1] the lease hash, KEYS[2] the index zset (name → expiresAt); ARGV name, holder, now, expiresAt. The same rule
 * as lease.ts: free, expired or own → taken, the token grows (HINCRBY, never reused). Returns the token, or false.
 */
const ACQUIRE = script(
  "lease-acquire",
  `local stored = redis.call('HMGET', KEYS[1], 'holder', 'expiresAt')
if stored[1] and tonumber(stored[2]) > tonumber(ARGV[3]) and stored[1] ~= ARGV[2] then return false end
local token = redis.call('HINCRBY', KEYS[1], 'token', 1)
redis.call('HSET', KEYS[1], 'holder', ARGV[2], 'expiresAt', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return token
`,
);

/**
 * KEYS as ACQUIRE; ARGV name, holder, token, now, field, value. Sets one field (expiresAt or cursor) only while holder
 * and token are the stored, live ones: the fencing check and the write are one step. Returns 1, or 0 when refused.
 */
const UNDER_LEASE = script(
  "lease-under",
  `local stored = redis.call('HMGET', KEYS[1], 'holder', 'token', 'expiresAt')
if stored[1] ~= ARGV[2] or stored[2] ~= ARGV[3] or tonumber(stored[3]) <= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[5], ARGV[6])
if ARGV[5] == 'expiresAt' then redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1]) end
return 1
`,
);

/**
 * KEYS[1] the index zset; ARGV prefix of the names, expiredBefore, key prefix of the lease hashes. Removes every lease
 * under the name prefix that expired at or before expiredBefore (the zset score is its expiresAt: ACQUIRE and
 * UNDER_LEASE set both in one step), hash and index entry together. Returns how many went.
 */
const PRUNE = script(
  "lease-prune",
  `local removed = 0
for _, name in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])) do
  if string.sub(name, 1, #ARGV[1]) == ARGV[1] then
    redis.call('DEL', ARGV[3] .. name)
    redis.call('ZREM', KEYS[1], name)
    removed = removed + 1
  end
end
return removed
`,
);

const FIELDS = ["holder", "token", "expiresAt", "cursor"] as const;

/**
 * Leases in Redis: `<prefix>lease:<name>` hashes (holder, token, expiresAt, cursor) and the `<prefix>leases` zset of
 * names by expiry for live(). Every step is one script, atomic across instances; keys never expire on their own, so a
 * name's token keeps growing across holders.
 */
export class RedisLeaseStore implements LeaseStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly prefix: string,
    private readonly now: Clock = Date.now,
  ) {}

  async acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    checkLeaseInput(name, holder, ttlMs);
    const at = this.now();
    const expiresAt = at + Math.ceil(ttlMs);
    const token = await this.conn.run(() =>
      this.conn.eval(ACQUIRE, this.keys(name), [name, holder, String(at), String(expiresAt)]),
    );
    return token === null || token === false || token === undefined
      ? null
      : { name, holder, token: Number(token), expiresAt };
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    checkLeaseInput(lease.name, lease.holder, ttlMs);
    const expiresAt = this.now() + Math.ceil(ttlMs);
    return (await this.underLease(lease, "expiresAt", String(expiresAt))) ? { ...lease, expiresAt } : null;
  }

  release(lease: Lease): Promise<boolean> {
    return this.underLease(lease, "expiresAt", "0");
  }

  commit(lease: Lease, cursor: string): Promise<boolean> {
    return this.underLease(lease, "cursor", cursor);
  }

  async current(name: string): Promise<LeaseState | null> {
    const [key] = this.keys(name);
    return stateOf(name, await this.conn.run(() => this.conn.command(["HMGET", key!, ...FIELDS])));
  }

  live(prefix: string): Promise<LeaseState[]> {
    return this.recent(prefix, this.now());
  }

  async recent(prefix: string, since: number): Promise<LeaseState[]> {
    const names = (await this.conn.run(() =>
      this.conn.command(["ZRANGEBYSCORE", `${this.prefix}leases`, `(${since}`, "+inf"]),
    )) as string[];
    const states = await Promise.all(names.filter((name) => name.startsWith(prefix)).map((name) => this.current(name)));
    return byName(states.filter((state): state is LeaseState => state !== null && state.expiresAt > since));
  }

  async prune(prefix: string, expiredBefore: number): Promise<number> {
    checkPrunePrefix(prefix);
    const args = [prefix, String(expiredBefore), `${this.prefix}lease:`];
    return Number(await this.conn.run(() => this.conn.eval(PRUNE, [`${this.prefix}leases`], args)));
  }

  private async underLease(lease: Lease, field: "expiresAt" | "cursor", value: string): Promise<boolean> {
    const args = [lease.name, lease.holder, String(lease.token), String(this.now()), field, value];
    return Number(await this.conn.run(() => this.conn.eval(UNDER_LEASE, this.keys(lease.name), args))) === 1;
  }

  private keys(name: string): string[] {
    return [`${this.prefix}lease:${name}`, `${this.prefix}leases`];
  }
}

function stateOf(name: string, reply: unknown): LeaseState | null {
  const [holder, token, expiresAt, cursor] = reply as (string | null)[];
  if (!holder || !token) return null;
  return { name, holder, token: Number(token), expiresAt: Number(expiresAt), cursor: cursor ?? null };
}
