import type BetterSqlite3 from "better-sqlite3";
import type { NewAuditEvent, SqliteAuditLog } from "./audit-log.js";
import { guard } from "./connection.js";
import { PENDING_COLUMNS, type PendingRow } from "./pending-rows.js";

/**
 * Expiry cleanup: expired pending entries are swept (each recorded as `expired`) inside the caller's transaction, and
 * at open the cooldowns and failure windows that can no longer affect anything are dropped.
 */
export class SqliteExpirySweep {
  private readonly expired: BetterSqlite3.Statement;
  private readonly anyExpired: BetterSqlite3.Statement;
  private readonly deleteExpired: BetterSqlite3.Statement;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly log: SqliteAuditLog,
  ) {
    // A scan of the small pending table (at most the cap per channel type; no index to write on every change);
    // sweep sorts the few rows it finds.
    this.expired = db.prepare(`SELECT ${PENDING_COLUMNS} FROM pending WHERE expires_at <= ?`);
    this.anyExpired = db.prepare("SELECT 1 FROM pending WHERE expires_at <= ? LIMIT 1").pluck();
    this.deleteExpired = db.prepare("DELETE FROM pending WHERE expires_at <= ?");
  }

  /** Whether a sweep at `now` would remove anything. */
  hasExpired(now: number): boolean {
    return this.anyExpired.get(now) !== undefined;
  }

  /** Removes every expired pending entry, recording each as `expired`. */
  sweep(now: number): void {
    const expired = this.expired.all(now) as PendingRow[];
    if (expired.length === 0) return;
    expired.sort((a, b) => a.seq - b.seq);
    this.deleteExpired.run(now);
    for (const entry of expired) this.log.append(expiredEvent(entry, now, {}));
  }

  /** At open: drops cooldowns and failure windows that can no longer affect anything, so those tables stay small. */
  forgetInert(now: number, redeemFailureWindowMs: number): void {
    guard(() =>
      this.db.transaction(() => {
        this.db.prepare("DELETE FROM deny_cooldowns WHERE until <= ?").run(now);
        this.db
          .prepare("DELETE FROM redeem_failures WHERE locked_until <= ? AND window_start <= ?")
          .run(now, now - redeemFailureWindowMs);
      }).immediate(),
    );
  }
}

/** The `expired` event of a pending entry removed by the system. */
export function expiredEvent(entry: PendingRow, now: number, detail: NewAuditEvent["detail"]): NewAuditEvent {
  const { channelType, channelId, kind } = entry;
  return { at: now, type: "expired", channelType, channelId, actor: "system", kind, detail };
}
