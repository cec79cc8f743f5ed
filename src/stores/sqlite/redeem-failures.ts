import type BetterSqlite3 from "better-sqlite3";
import { nextRedeemFailure, type FailureWindow } from "../shared.js";
import type { PairingRules } from "../types.js";
import type { SqliteAuditLog } from "./audit-log.js";

/** A redeemer's failed redemptions per channel type (table redeem_failures): the lockout check and the count. */
export class SqliteRedeemFailures {
  private readonly failuresOf: BetterSqlite3.Statement;
  private readonly setFailures: BetterSqlite3.Statement;
  private readonly clear: BetterSqlite3.Statement;

  constructor(
    db: BetterSqlite3.Database,
    private readonly log: SqliteAuditLog,
  ) {
    this.failuresOf = db.prepare(
      `SELECT window_start AS windowStart, count, locked_until AS lockedUntil
       FROM redeem_failures WHERE channel_type = ? AND redeemer = ?`,
    );
    this.setFailures = db.prepare(
      `INSERT INTO redeem_failures (channel_type, redeemer, window_start, count, locked_until) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (channel_type, redeemer)
       DO UPDATE SET window_start = excluded.window_start, count = excluded.count, locked_until = excluded.locked_until`,
    );
    this.clear = db.prepare("DELETE FROM redeem_failures WHERE channel_type = ? AND redeemer = ?");
  }

  /** A successful redemption: limits count consecutive failures, so the redeemer's count starts afresh. */
  reset(channelType: string, redeemer: string): void {
    this.clear.run(channelType, redeemer);
  }

  /** Until when the redeemer is locked out on the channel type; 0 when never. */
  lockedUntil(channelType: string, redeemer: string): number {
    return this.window(channelType, redeemer)?.lockedUntil ?? 0;
  }

  /** A failed redemption by one redeemer on one channel type; past the limit inside the window they are locked out. */
  count(rules: PairingRules, channelType: string, redeemer: string, now: number): void {
    const { window, events } = nextRedeemFailure(this.window(channelType, redeemer), rules, now, channelType, redeemer);
    for (const event of events) this.log.append(event);
    this.setFailures.run(channelType, redeemer, window.windowStart, window.count, window.lockedUntil);
  }

  private window(channelType: string, redeemer: string): FailureWindow | undefined {
    return this.failuresOf.get(channelType, redeemer) as FailureWindow | undefined;
  }
}
