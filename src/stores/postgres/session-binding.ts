import type { Principal } from "../../protocols/types.js";
import { isValidId } from "../../pairing/validation.js";
import { assertSessionId, parsePrincipal, serializePrincipal } from "../principal.js";
import { DEFAULT_SESSION_IDLE_TTL_MS, sessionRefreshIntervalMs } from "../session-defaults.js";
import type { SessionBindingStore, SessionStoreOptions } from "../types.js";
import type { PostgresDatabase } from "./database.js";

/** Idle sessions nobody looks up again are purged on a bind at most this often. */
const PURGE_INTERVAL_MS = 60_000;

/**
 * Session bindings in PostgreSQL, behaving like the memory reference store: a session not bound or looked up for the
 * idle TTL is gone, and a lookup refreshes last-seen once it is older than the refresh interval. Timestamps come from
 * the injected clock.
 */
export class PostgresSessionBindingStore implements SessionBindingStore {
  private readonly now: () => number;
  private readonly idleTtlMs: number;
  private readonly refreshIntervalMs: number;
  private lastPurge = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly db: PostgresDatabase,
    options: SessionStoreOptions = {},
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {
    this.now = options.now ?? Date.now;
    this.idleTtlMs = options.idleTtlMs ?? DEFAULT_SESSION_IDLE_TTL_MS;
    if (!Number.isFinite(this.idleTtlMs) || this.idleTtlMs <= 0) {
      throw new TypeError("session idleTtlMs must be a positive number");
    }
    this.refreshIntervalMs = sessionRefreshIntervalMs(this.idleTtlMs);
  }

  async bind(sessionId: string, principal: Principal): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    const json = serializePrincipal(principal);
    const now = this.now();
    await this.db.call(async () => {
      await this.db.query(
        `INSERT INTO ${this.db.table("sessions")} (session_id, principal, last_seen) VALUES ($1, $2, $3)
         ON CONFLICT (session_id) DO UPDATE SET principal = EXCLUDED.principal, last_seen = EXCLUDED.last_seen`,
        [sessionId, json, now],
        true,
      );
      if (now - this.lastPurge >= PURGE_INTERVAL_MS || now < this.lastPurge) {
        this.lastPurge = now;
        await this.db.query(`DELETE FROM ${this.db.table("sessions")} WHERE last_seen <= $1`, [now - this.idleTtlMs]);
      }
    });
  }

  async lookup(sessionId: string): Promise<Principal | null> {
    this.assertOpen();
    // Nothing that bind would refuse can be bound, so it is simply not found.
    if (!isValidId(sessionId)) return null;
    const now = this.now();
    const table = this.db.table("sessions");
    const found = await this.db.call(() =>
      // One statement, one round trip. All three parts see the row as it was when the statement began: an idle session
      // is deleted; a live one is returned, and its last-seen rewritten only when older than the refresh interval (or
      // ahead of the clock, as in the memory store). Usually neither matches, no transaction id is assigned and the
      // commit writes nothing. A refresh commits asynchronously: last-seen is soft state (losing the last refreshes in
      // a server crash only brings an expiry forward by that much), while binds and unbinds stay synchronous.
      this.db.query<{ principal: string }>(
        `WITH found AS (
           SELECT principal FROM ${table} WHERE session_id = $1 AND last_seen > $2 - $3::bigint
         ), idle AS (
           DELETE FROM ${table} WHERE session_id = $1 AND last_seen <= $2 - $3::bigint
         ), touched AS (
           UPDATE ${table} SET last_seen = $2
           WHERE session_id = $1 AND last_seen > $2 - $3::bigint AND (last_seen <= $2 - $4::bigint OR last_seen > $2)
         )
         SELECT principal, set_config('synchronous_commit', 'off', true) AS async FROM found`,
        [sessionId, now, this.idleTtlMs, this.refreshIntervalMs],
        true,
      ),
    );
    const row = found.rows[0];
    return row ? parsePrincipal(row.principal) : null;
  }

  async unbind(sessionId: string): Promise<boolean> {
    this.assertOpen();
    if (!isValidId(sessionId)) return false;
    const gone = await this.db.call(() =>
      this.db.query(`DELETE FROM ${this.db.table("sessions")} WHERE session_id = $1`, [sessionId]),
    );
    return gone.rowCount === 1;
  }

  async health(): Promise<void> {
    this.assertOpen();
    await this.db.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("postgres session store is closed");
  }
}
