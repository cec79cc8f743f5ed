import { settingKey, type SettingsStore } from "../settings.js";
import { sqlCall, type SqlDriver } from "./driver.js";

/**
 * Settings in a SQL store's meta table (`keyColumn` is its key column: `name` on MariaDB), one row per setting. Calls
 * run under the store's deadline (sqlCall); a synchronous driver answers a read at once when it can (SQLite outside a
 * write turn: webchat reads webchat.deviceProof for every message), with the same error mapping.
 */
export function createSqlSettingsStore(driver: SqlDriver, keyColumn: string): SettingsStore {
  const table = driver.dialect.table("meta");
  const select = `SELECT value FROM ${table} WHERE ${keyColumn} = ?`;
  const upsert = driver.dialect.upsert(table, [keyColumn, "value"], [keyColumn], ["value"]);
  const insert = driver.dialect.insertIfAbsent(table, [keyColumn, "value"], [keyColumn]);
  const read = async (name: string): Promise<string | null> =>
    (await driver.get<{ value: string }>(select, [settingKey(name)]))?.value ?? null;
  return {
    get: (name) => {
      if (driver.readNow) {
        try {
          const row = driver.readNow<{ value: string }>(select, [settingKey(name)]);
          if (row !== undefined) return Promise.resolve(row?.value ?? null);
        } catch (error) {
          return Promise.reject(driver.failure(error));
        }
      }
      return sqlCall(driver, () => read(name));
    },
    set: (name, value) =>
      sqlCall(driver, async () => {
        await driver.execute(upsert, [settingKey(name), value]);
      }),
    setIfAbsent: (name, value) =>
      sqlCall(driver, async () => {
        await driver.execute(insert, [settingKey(name), value]);
        return (await read(name)) ?? value;
      }),
  };
}
