import type BetterSqlite3 from "better-sqlite3";
import type { Principal } from "../../protocols/types.js";
import { assertSessionId, parsePrincipal, serializePrincipal } from "../principal.js";
import { DEFAULT_SESSION_IDLE_TTL_MS, needsRefresh, sessionRefreshIntervalMs } from "../session-defaults.js";
import type { SessionBindingStore, SessionStoreOptions } from "../types.js";
import { guard, type SqliteConnection } from "./connection.js";

interface SessionRow {
  principal: string;
  lastSeen: number;
}

/**
 * Session bindings in an SQLite file, shared by every process that opens it. Behaves exactly like
 * MemorySessionBindingStore: principals are stored as JSON text (a lookup returns a fresh copy), a session idle for
 * `idleTtlMs` is gone, and a lookup writes last-seen only once it is older than the refresh interval: otherwise it
 * is one primary-key read, with no write lock and nothing written to the WAL.
 */
export class SqliteSessionBindingStore implements SessionBindingStore {
  private readonly now: () => number;
  private readonly idleTtlMs: number;
  private readonly refreshIntervalMs: number;
  private closed = false;
  private readonly upsert: BetterSqlite3.Statement;
  private readonly read: BetterSqlite3.Statement;
  /** Refreshes last-seen of a live binding and returns its principal, in one atomic statement. */
  private readonly touch: BetterSqlite3.Statement;
  private readonly deleteIdle: BetterSqlite3.Statement;
  private readonly delete: BetterSqlite3.Statement;

  constructor(
    private readonly connection: SqliteConnection,
    options: SessionStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.idleTtlMs = options.idleTtlMs ?? DEFAULT_SESSION_IDLE_TTL_MS;
    this.refreshIntervalMs = sessionRefreshIntervalMs(this.idleTtlMs);
    const db = connection.acquire().db;
    this.upsert = db.prepare(
      `INSERT INTO sessions (session_id, principal, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET principal = excluded.principal, last_seen = excluded.last_seen`,
    );
    this.read = db.prepare("SELECT principal, last_seen AS lastSeen FROM sessions WHERE session_id = ?");
    this.touch = db
      .prepare("UPDATE sessions SET last_seen = @now WHERE session_id = @id AND @now - last_seen < @ttl RETURNING principal")
      .pluck();
    this.deleteIdle = db.prepare("DELETE FROM sessions WHERE session_id = @id AND @now - last_seen >= @ttl");
    this.delete = db.prepare("DELETE FROM sessions WHERE session_id = ?");
    // At open: forget sessions already idle past the TTL, so the table does not grow with sessions nobody resumes.
    guard(() => db.prepare("DELETE FROM sessions WHERE last_seen <= ?").run(this.now() - this.idleTtlMs));
  }

  async bind(sessionId: string, principal: Principal): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    const json = serializePrincipal(principal);
    guard(() => this.upsert.run(sessionId, json, this.now()));
  }

  async lookup(sessionId: string): Promise<Principal | null> {
    this.assertOpen();
    if (typeof sessionId !== "string") return null;
    const row = guard(() => this.read.get(sessionId)) as SessionRow | undefined;
    if (!row) return null;
    const now = this.now();
    const params = { id: sessionId, now, ttl: this.idleTtlMs };
    if (now - row.lastSeen >= this.idleTtlMs) {
      // Only if still idle: another process may have bound it again since the read.
      guard(() => this.deleteIdle.run(params));
      return null;
    }
    if (!needsRefresh(row.lastSeen, now, this.refreshIntervalMs)) return parsePrincipal(row.principal);
    // The refresh re-checks liveness and returns the principal as of the write, in case another process changed it.
    const json = guard(() => this.touch.get(params)) as string | undefined;
    return json === undefined ? null : parsePrincipal(json);
  }

  async unbind(sessionId: string): Promise<boolean> {
    this.assertOpen();
    return typeof sessionId === "string" && guard(() => this.delete.run(sessionId)).changes > 0;
  }

  async health(): Promise<void> {
    this.connection.health("session store", this.closed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connection.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("sqlite session store is closed");
  }
}
