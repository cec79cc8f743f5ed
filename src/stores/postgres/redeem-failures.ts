import { nextRedeemFailure, type ApproveInput } from "../shared.js";
import type { PairingRules } from "../types.js";
import type { PostgresDatabase, Queryable } from "./database.js";

/** Until when the redeemer is locked out on the channel type; 0 when never. */
export async function lockedUntil(db: PostgresDatabase, tx: Queryable, input: ApproveInput): Promise<number> {
  const rows = await tx.query<{ locked_until: string }>(
    `SELECT locked_until FROM ${db.table("redeem_failures")} WHERE channel_type = $1 AND redeemer = $2`,
    [input.channelType, input.userId],
  );
  return Number(rows.rows[0]?.locked_until ?? 0);
}

/** A failed redemption by one redeemer on one channel type; past the limit inside the window they are locked out. */
export async function countRedeemFailure(
  db: PostgresDatabase,
  tx: Queryable,
  rules: PairingRules,
  input: ApproveInput,
  now: number,
): Promise<void> {
  const rows = await tx.query<{ window_start: string; count: number; locked_until: string }>(
    `SELECT window_start, count, locked_until FROM ${db.table("redeem_failures")} WHERE channel_type = $1 AND redeemer = $2`,
    [input.channelType, input.userId],
  );
  const row = rows.rows[0];
  const previous = row && { windowStart: Number(row.window_start), count: row.count, lockedUntil: Number(row.locked_until) };
  const { window, events } = nextRedeemFailure(previous, rules, now, input.channelType, input.userId);
  for (const event of events) await db.appendAudit(tx, event);
  await tx.query(
    `INSERT INTO ${db.table("redeem_failures")} (channel_type, redeemer, window_start, count, locked_until) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (channel_type, redeemer)
     DO UPDATE SET window_start = EXCLUDED.window_start, count = EXCLUDED.count, locked_until = EXCLUDED.locked_until`,
    [input.channelType, input.userId, window.windowStart, window.count, window.lockedUntil],
  );
}

/** A successful redemption: limits count consecutive failures, so the redeemer's count starts afresh. */
export async function resetRedeemFailures(db: PostgresDatabase, tx: Queryable, input: ApproveInput): Promise<void> {
  await tx.query(`DELETE FROM ${db.table("redeem_failures")} WHERE channel_type = $1 AND redeemer = $2`, [input.channelType, input.userId]);
}
