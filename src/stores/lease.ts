import type { Clock } from "./events.js";

/**
 * Leases with fencing tokens: one holder of a named thing (a Telegram bot's long poll, a Discord gateway connection, an
 * instance's heartbeat) among every gateway instance on the store. A lease is held until `expiresAt` unless renewed;
 * each acquisition gets a token larger than every earlier one for that name, and every act under the lease (renew,
 * cursor commit) is checked against the token in the store in the same atomic step, so a holder that was paused past
 * its expiry and wakes up is refused and must step down. Expiry uses the callers' clocks (`now`), so the instances'
 * clocks must agree to well within the lease time (NTP does).
 */
export interface Lease {
  name: string;
  holder: string;
  /** The fencing token: grows with every acquisition of this name, never reused. */
  token: number;
  expiresAt: number;
}

/** A lease as the store keeps it: the last holder, whether or not it is still live, and its committed cursor. */
export interface LeaseState extends Lease {
  /** What the holders committed under the lease (e.g. Telegram's next update offset, an instance's heartbeat), or null. */
  cursor: string | null;
}

export interface LeaseStore {
  /**
   * Takes `name` for `holder` for `ttlMs` when nobody holds it, its lease has expired, or `holder` already holds it;
   * the token then grows. Null when another holder's lease is live. Of many racing acquirers exactly one wins.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /** Extends a live lease this holder still holds with this token; null when it was lost (expired, taken over). */
  renew(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /** Ends a live lease early (the next acquirer need not wait for its expiry); false when it was no longer held. */
  release(lease: Lease): Promise<boolean>;
  /** The stored state of `name` (live or not; its cursor survives expiry), or null when it was never acquired. */
  current(name: string): Promise<LeaseState | null>;
  /** Writes `cursor` under a live lease, checked against its holder and token atomically; false (nothing written) otherwise. */
  commit(lease: Lease, cursor: string): Promise<boolean>;
  /** The live leases whose names start with `prefix`, by name. */
  live(prefix: string): Promise<LeaseState[]>;
  /**
   * The leases under `prefix` whose expiry is after `since`, by name: the live ones and those that ran out since then
   * (a holder that died without releasing), so a caller can tell live from stale. Released leases expire at 0.
   */
  recent(prefix: string, since: number): Promise<LeaseState[]>;
  /**
   * Forgets the leases under `prefix` (non-empty) that expired at or before `expiredBefore`, released ones included,
   * each checked and removed in one atomic step (a lease taken again meanwhile stays); resolves with how many went.
   * A forgotten name's fencing tokens start over, so prune only names nobody takes again: an instance's heartbeat
   * (`instance:<id>`, a new id each start), never a platform connection's lease.
   */
  prune(prefix: string, expiredBefore: number): Promise<number>;
}

/**
 * Where a backend keeps lease rows. `atomically` reads one name's row, asks `decide` (synchronous, pure) for its next
 * state and writes it, in one atomic step (a write transaction): nobody else changes the row in between. It resolves
 * with the state written, or null when `decide` said null (nothing written).
 */
export interface LeaseRows {
  atomically(name: string, decide: (stored: LeaseState | null) => LeaseState | null): Promise<LeaseState | null>;
  read(name: string): Promise<LeaseState | null>;
  /** Every row with expiresAt after `at`. */
  liveAfter(at: number): Promise<LeaseState[]>;
  /** Removes the rows under `prefix` whose expiresAt is at or before `at`, each atomically (a row renewed meanwhile stays). */
  removeExpired(prefix: string, at: number): Promise<number>;
}

/** Lease names and holders: short, printable, no spaces (they are keys on every backend). */
const NAME = /^[\x21-\x7e]{1,200}$/;

/** Refuses a malformed name, holder or lifetime with a clear error before the store is touched. */
export function checkLeaseInput(name: string, holder: string, ttlMs: number): void {
  if (typeof name !== "string" || !NAME.test(name))
    throw new TypeError("lease name must be 1-200 printable ASCII characters without spaces");
  if (typeof holder !== "string" || !NAME.test(holder))
    throw new TypeError("lease holder must be 1-200 printable ASCII characters without spaces");
  if (!Number.isFinite(ttlMs) || ttlMs < 1 || ttlMs > 24 * 3_600_000)
    throw new TypeError(`lease ttlMs must be from 1 ms to 24 hours (got ${String(ttlMs)})`);
}

/** Refuses an empty or malformed prefix for prune(): forgetting every lease would reset platform leases' fencing. */
export function checkPrunePrefix(prefix: string): void {
  if (typeof prefix !== "string" || !NAME.test(prefix))
    throw new TypeError("lease prune prefix must be 1-200 printable ASCII characters without spaces");
}

/** Leases by name. */
export function byName(states: LeaseState[]): LeaseState[] {
  return states.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** True when `lease` is the stored, live lease: same holder, same token, not expired. */
function stillHeld(stored: LeaseState | null, lease: Lease, at: number): stored is LeaseState {
  return stored !== null && stored.holder === lease.holder && stored.token === lease.token && stored.expiresAt > at;
}

function leaseOf(state: LeaseState): Lease {
  return { name: state.name, holder: state.holder, token: state.token, expiresAt: state.expiresAt };
}

/**
 * The lease rules, once for every backend that keeps rows (memory, SQLite, PostgreSQL, the SQL base): acquire takes a
 * free, expired or own lease with the next token; renew, release and commit act only while holder and token are the
 * stored, live ones. Redis applies the same rules in Lua (redis/leases.ts).
 */
export function leaseStoreOver(rows: LeaseRows, now: Clock): LeaseStore {
  const underLease = (lease: Lease, change: (state: LeaseState, at: number) => void): Promise<LeaseState | null> =>
    rows.atomically(lease.name, (stored) => {
      const at = now();
      if (!stillHeld(stored, lease, at)) return null;
      const changed = { ...stored };
      change(changed, at);
      return changed;
    });
  const store: LeaseStore = {
    async acquire(name, holder, ttlMs) {
      checkLeaseInput(name, holder, ttlMs);
      const taken = await rows.atomically(name, (stored) => {
        const at = now();
        if (stored && stored.expiresAt > at && stored.holder !== holder) return null;
        return { name, holder, token: (stored?.token ?? 0) + 1, expiresAt: at + ttlMs, cursor: stored?.cursor ?? null };
      });
      return taken ? leaseOf(taken) : null;
    },
    async renew(lease, ttlMs) {
      checkLeaseInput(lease.name, lease.holder, ttlMs);
      const renewed = await underLease(lease, (state, at) => void (state.expiresAt = at + ttlMs));
      return renewed ? leaseOf(renewed) : null;
    },
    async release(lease) {
      return (await underLease(lease, (state) => void (state.expiresAt = 0))) !== null;
    },
    current: (name) => rows.read(name),
    async commit(lease, cursor) {
      return (await underLease(lease, (state) => void (state.cursor = cursor))) !== null;
    },
    live: (prefix) => store.recent(prefix, now()),
    async recent(prefix, since) {
      return byName((await rows.liveAfter(since)).filter((state) => state.name.startsWith(prefix)));
    },
    async prune(prefix, expiredBefore) {
      checkPrunePrefix(prefix);
      return rows.removeExpired(prefix, expiredBefore);
    },
  };
  return store;
}
