import { leaseStoreOver, type LeaseState, type LeaseStore } from "../lease.js";
import type { Clock } from "../events.js";
import { sqlCall, type SqlDriver, type SqlExecutor } from "./driver.js";

interface LeaseRow {
  name: string;
  holder: string;
  token: unknown;
  expires_at: unknown;
  cursor_value: string | null;
}

/** `cursor` is a reserved word in MySQL, hence cursor_value. */
const COLUMNS = ["name", "holder", "token", "expires_at", "cursor_value"] as const;

function stateOf(row: LeaseRow): LeaseState {
  return {
    name: row.name,
    holder: row.holder,
    token: Number(row.token),
    expiresAt: Number(row.expires_at),
    cursor: row.cursor_value,
  };
}

/**
 * Leases over any SQL driver (table `leases`, a migration of each backend): every step reads the row and writes the
 * decision in one write transaction under the store's write lock, so of racing instances exactly one acquires and a
 * stale token is refused (the rules are lease.ts's).
 */
export function createSqlLeaseStore(driver: SqlDriver, now: Clock): LeaseStore {
  const table = driver.dialect.table("leases");
  const select = `SELECT ${COLUMNS.join(", ")} FROM ${table}`;
  const upsert = driver.dialect.upsert(table, COLUMNS, ["name"], COLUMNS.slice(1));
  const read = async (on: SqlExecutor, name: string): Promise<LeaseState | null> => {
    const row = await on.get<LeaseRow>(`${select} WHERE name = ?`, [name]);
    return row ? stateOf(row) : null;
  };
  return leaseStoreOver(
    {
      atomically: (name, decide) =>
        sqlCall(driver, (deadline) =>
          driver.write(async (tx) => {
            const next = decide(await read(tx, name));
            if (next) await tx.execute(upsert, [next.name, next.holder, next.token, next.expiresAt, next.cursor]);
            return next;
          }, deadline),
        ),
      read: (name) => sqlCall(driver, () => read(driver, name)),
      liveAfter: (at) =>
        sqlCall(driver, async () => (await driver.all<LeaseRow>(`${select} WHERE expires_at > ?`, [at])).map(stateOf)),
      // The names are matched in code (portable: no LIKE escaping across dialects); the few rows are read and removed
      // in one write transaction, each only while still expired.
      removeExpired: (prefix, at) =>
        sqlCall(driver, (deadline) =>
          driver.write(async (tx) => {
            const expired = await tx.all<{ name: string }>(`SELECT name FROM ${table} WHERE expires_at <= ?`, [at]);
            let removed = 0;
            for (const { name } of expired)
              if (name.startsWith(prefix))
                removed += await tx.execute(`DELETE FROM ${table} WHERE name = ? AND expires_at <= ?`, [name, at]);
            return removed;
          }, deadline),
        ),
    },
    now,
  );
}
