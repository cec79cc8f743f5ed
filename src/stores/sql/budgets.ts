import { afterGiveBack, afterTake, budgetTiming, type BudgetStore, type RateLimit } from "../budget.js";
import type { Clock, SeenOnceStore } from "../types.js";
import { sqlCall, type SqlDriver, type SqlExecutor } from "./driver.js";

/** One write transaction under the store's write lock: the read and the write of a budget or key cannot interleave. */
function writing<T>(driver: SqlDriver, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  return sqlCall(driver, (deadline) => driver.write(work, deadline));
}

/**
 * Rate budgets over any SQL driver, shared by every instance: each take or give-back reads the key's arrival time and
 * writes the next in one write transaction (the arithmetic is budget.ts's, as for every backend).
 */
export function createSqlBudgetStore(driver: SqlDriver, now: Clock): BudgetStore {
  const { dialect } = driver;
  const table = dialect.table("rate_budgets");
  const name = dialect.keyColumn;
  const upsert = dialect.upsert(table, [name, "arrival"], [name], ["arrival"]);
  const arrival = async (tx: SqlExecutor, key: string): Promise<number | undefined> => {
    const row = await tx.get<{ arrival: unknown }>(`SELECT arrival FROM ${table} WHERE ${name} = ?`, [key]);
    return row ? Number(row.arrival) : undefined;
  };
  return {
    async take(key, limit: RateLimit) {
      const timing = budgetTiming(key, limit);
      const at = now();
      return writing(driver, async (tx) => {
        const next = afterTake(await arrival(tx, key), at, timing);
        if (next === null) return false;
        await tx.execute(upsert, [key, next]);
        return true;
      });
    },
    async giveBack(key, limit: RateLimit) {
      const timing = budgetTiming(key, limit);
      const at = now();
      return writing(driver, async (tx) => {
        const next = afterGiveBack(await arrival(tx, key), at, timing);
        if (next <= at) await tx.execute(`DELETE FROM ${table} WHERE ${name} = ?`, [key]);
        else await tx.execute(upsert, [key, next]);
      });
    },
  };
}

/** Seen-once keys over any SQL driver: a key is claimed when absent or expired, by exactly one caller of all instances. */
export function createSqlSeenOnceStore(driver: SqlDriver, now: Clock): SeenOnceStore {
  const { dialect } = driver;
  const table = dialect.table("seen_once");
  const name = dialect.keyColumn;
  const upsert = dialect.upsert(table, [name, "expires_at"], [name], ["expires_at"]);
  let claims = 0;
  return {
    async firstSighting(key, ttlMs) {
      const at = now();
      return writing(driver, async (tx) => {
        if (++claims % 1000 === 0) await tx.execute(`DELETE FROM ${table} WHERE expires_at <= ?`, [at]);
        const row = await tx.get<{ expires_at: unknown }>(`SELECT expires_at FROM ${table} WHERE ${name} = ?`, [key]);
        if (row && Number(row.expires_at) > at) return false;
        await tx.execute(upsert, [key, at + ttlMs]);
        return true;
      });
    },
  };
}
