import type { Database } from "better-sqlite3";
import { afterGiveBack, afterTake, budgetTiming, type BudgetStore, type RateLimit } from "../budget.js";
import type { Clock } from "../types.js";

/** The rate_budgets table; safe to run on every open (like api_tokens). */
const RATE_BUDGETS_SCHEMA = `
CREATE TABLE IF NOT EXISTS rate_budgets (
  key TEXT PRIMARY KEY,
  arrival REAL NOT NULL
) WITHOUT ROWID;
`;

/**
 * Budgets in the gateway's SQLite file, shared by every process using it: each take or give-back is one IMMEDIATE
 * transaction (read the arrival time, write the next), so concurrent processes cannot both spend the last unit.
 */
export function createSqliteBudgetStore(db: Database, now: Clock = Date.now): BudgetStore {
  db.exec(RATE_BUDGETS_SCHEMA);
  const read = db.prepare<[string], number>("SELECT arrival FROM rate_budgets WHERE key = ?").pluck();
  const write = db.prepare<[string, number]>(
    "INSERT INTO rate_budgets (key, arrival) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET arrival = excluded.arrival",
  );
  const forget = db.prepare<[string]>("DELETE FROM rate_budgets WHERE key = ?");
  const prune = db.prepare<[number]>("DELETE FROM rate_budgets WHERE arrival <= ?");
  const take = db.transaction((key: string, timing: ReturnType<typeof budgetTiming>, at: number): boolean => {
    const next = afterTake(read.get(key), at, timing);
    if (next === null) return false;
    write.run(key, next);
    return true;
  });
  const giveBack = db.transaction((key: string, timing: ReturnType<typeof budgetTiming>, at: number): void => {
    const next = afterGiveBack(read.get(key), at, timing);
    if (next <= at) forget.run(key);
    else write.run(key, next);
  });
  let prunedAt = 0;
  return {
    async take(key, limit: RateLimit) {
      const timing = budgetTiming(key, limit);
      const at = now();
      if (at - prunedAt > 60_000) {
        prunedAt = at;
        prune.run(at);
      }
      return take.immediate(key, timing, at);
    },
    async giveBack(key, limit: RateLimit) {
      giveBack.immediate(key, budgetTiming(key, limit), now());
    },
  };
}
