import { budgetTiming, type BudgetStore, type RateLimit } from "../budget.js";
import type { Clock } from "../types.js";
import type { PostgresDatabase } from "./database.js";

/** SQLSTATEs of a CREATE TABLE IF NOT EXISTS that lost a race with another instance's: the table is there. */
const CREATED_MEANWHILE = new Set(["42P07", "23505"]);

/**
 * Budgets in the shared PostgreSQL schema: a take is one statement (an upsert whose update only happens while the
 * budget holds a unit), so it is atomic across every instance without an explicit transaction.
 */
export function createPostgresBudgetStore(db: PostgresDatabase, now: Clock = Date.now): BudgetStore {
  const table = db.table("rate_budgets");
  let ready: Promise<void> | undefined;
  let prunedAt = 0;
  const ensureTable = (): Promise<void> => {
    ready ??= db
      .query(`CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, arrival double precision NOT NULL)`)
      .then(
        () => undefined,
        (error: unknown) => {
          if (CREATED_MEANWHILE.has(String((error as { code?: unknown })?.code))) return;
          ready = undefined;
          throw error;
        },
      );
    return ready;
  };
  return {
    async take(key, limit: RateLimit) {
      const { intervalMs, toleranceMs } = budgetTiming(key, limit);
      const at = now();
      return db.call(async () => {
        await ensureTable();
        if (at - prunedAt > 60_000) {
          prunedAt = at;
          await db.query(`DELETE FROM ${table} WHERE arrival <= $1`, [at]);
        }
        const taken = await db.query(
          `INSERT INTO ${table} AS b (key, arrival) VALUES ($1, $2::double precision + $3)
           ON CONFLICT (key) DO UPDATE SET arrival = greatest(b.arrival, $2) + $3
           WHERE greatest(b.arrival, $2) - $2 <= $4
           RETURNING b.arrival`,
          [key, at, intervalMs, toleranceMs],
          true,
        );
        return taken.rowCount === 1;
      });
    },
    async giveBack(key, limit: RateLimit) {
      const { intervalMs } = budgetTiming(key, limit);
      const at = now();
      await db.call(async () => {
        await ensureTable();
        await db.query(`UPDATE ${table} SET arrival = greatest($2::double precision, arrival - $3) WHERE key = $1`, [key, at, intervalMs], true);
      });
    },
  };
}
