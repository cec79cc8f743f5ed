import { StoreUnavailableError } from "../../pairing/errors.js";
import { isValidId } from "../../pairing/validation.js";
import type { Principal } from "../../protocols/types.js";
import { assertSessionId, parsePrincipal, serializePrincipal } from "../principal.js";
import { DEFAULT_SESSION_IDLE_TTL_MS, needsRefresh, sessionRefreshIntervalMs } from "../session-defaults.js";
import type { SessionBindingStore, SessionStoreOptions } from "../types.js";
import { sqlCall, type SqlDriver } from "./driver.js";

/**
 * Session bindings over any SQL driver, behaving like MemorySessionBindingStore: principals are JSON text (a lookup
 * returns a fresh copy), a session idle for `idleTtlMs` is gone, and a lookup writes last-seen only once it is older
 * than the refresh interval (see SessionStoreOptions).
 */
export class SqlSessionBindingStore implements SessionBindingStore {
  private readonly now: () => number;
  private readonly idleTtlMs: number;
  private readonly refreshIntervalMs: number;
  private readonly table: string;
  /** The statements of the hot paths, built once, so each call hands the driver the same (already hashed) string. */
  private readonly sql: { upsert: string; select: string; deleteIdle: string; touch: string; principal: string };
  private closed = false;

  constructor(
    private readonly driver: SqlDriver,
    options: SessionStoreOptions = {},
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {
    this.now = options.now ?? Date.now;
    this.idleTtlMs = options.idleTtlMs ?? DEFAULT_SESSION_IDLE_TTL_MS;
    if (!Number.isFinite(this.idleTtlMs) || this.idleTtlMs <= 0)
      throw new TypeError("session idleTtlMs must be a positive number");
    this.refreshIntervalMs = sessionRefreshIntervalMs(this.idleTtlMs);
    const table = driver.dialect.table("sessions");
    this.table = table;
    this.sql = {
      upsert: driver.dialect.upsert(
        table,
        ["session_id", "principal", "last_seen"],
        ["session_id"],
        ["principal", "last_seen"],
      ),
      select: `SELECT principal, last_seen FROM ${table} WHERE session_id = ?`,
      deleteIdle: `DELETE FROM ${table} WHERE session_id = ? AND last_seen <= ?`,
      touch: `UPDATE ${table} SET last_seen = ? WHERE session_id = ? AND last_seen > ?`,
      principal: `SELECT principal FROM ${table} WHERE session_id = ?`,
    };
  }

  /** Forgets sessions already idle past the TTL (at open), so the table does not grow with sessions nobody resumes. */
  async purgeIdle(): Promise<void> {
    await this.call(() =>
      this.driver.execute(`DELETE FROM ${this.table} WHERE last_seen <= ?`, [this.now() - this.idleTtlMs]),
    );
  }

  async bind(sessionId: string, principal: Principal): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    const json = serializePrincipal(principal);
    await this.call(() => this.driver.execute(this.sql.upsert, [sessionId, json, this.now()]));
  }

  async lookup(sessionId: string): Promise<Principal | null> {
    this.assertOpen();
    // Nothing bind would refuse can be bound, so it is simply not found (PostgreSQL's text cannot even hold U+0000).
    if (!isValidId(sessionId)) return null;
    const now = this.now();
    const idleBefore = now - this.idleTtlMs;
    const { select } = this.sql;
    // The hot path (a live session that needs no refresh), read at once where the driver can (SQLite).
    const quick = this.driver.readNow?.<{ principal: string; last_seen: unknown }>(select, [sessionId]);
    if (quick === null) return null;
    if (quick !== undefined) {
      const lastSeen = Number(quick.last_seen);
      if (lastSeen > idleBefore && !needsRefresh(lastSeen, now, this.refreshIntervalMs))
        return parsePrincipal(quick.principal);
    }
    const json = await this.call(async () => {
      const row = await this.driver.get<{ principal: string; last_seen: unknown }>(select, [sessionId]);
      if (!row) return null;
      const lastSeen = Number(row.last_seen);
      if (lastSeen <= idleBefore) {
        // Only if still idle: another process may have bound it again since the read.
        await this.driver.execute(this.sql.deleteIdle, [sessionId, idleBefore]);
        return null;
      }
      if (!needsRefresh(lastSeen, now, this.refreshIntervalMs)) return row.principal;
      // The refresh re-checks liveness; the principal is read again in case another process changed it meanwhile.
      const touched = await this.driver.execute(this.sql.touch, [now, sessionId, idleBefore]);
      if (touched === 0) return null;
      return (await this.driver.get<{ principal: string }>(this.sql.principal, [sessionId]))?.principal ?? null;
    });
    return json === null ? null : parsePrincipal(json);
  }

  async unbind(sessionId: string): Promise<boolean> {
    this.assertOpen();
    if (!isValidId(sessionId)) return false;
    return (
      (await this.call(() => this.driver.execute(`DELETE FROM ${this.table} WHERE session_id = ?`, [sessionId]))) > 0
    );
  }

  async health(): Promise<void> {
    if (this.closed)
      throw new StoreUnavailableError(this.driver.backend, {
        cause: new Error(`${this.driver.backend} session store is closed`),
      });
    await this.call(() => this.driver.get("SELECT 1 AS ok"));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this.driver.backend} session store is closed`);
  }

  private call<T>(work: () => Promise<T>): Promise<T> {
    return sqlCall(this.driver, work);
  }
}
