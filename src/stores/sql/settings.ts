import { runWithDeadline } from "../deadline.js";
import { settingKey, type SettingsStore } from "../settings.js";
import type { SqlDriver } from "./driver.js";

/** Settings in a SQL store's meta table (`keyColumn` is its key column: `name` on MariaDB), one row per setting. */
export function createSqlSettingsStore(driver: SqlDriver, keyColumn: string): SettingsStore {
  const table = driver.dialect.table("meta");
  const call = <T>(work: () => Promise<T>): Promise<T> =>
    runWithDeadline(driver.backend, driver.timeoutMs, async () => {
      try {
        return await work();
      } catch (error) {
        throw driver.failure(error);
      }
    });
  const read = async (name: string): Promise<string | null> =>
    (await driver.get<{ value: string }>(`SELECT value FROM ${table} WHERE ${keyColumn} = ?`, [settingKey(name)]))
      ?.value ?? null;
  return {
    get: (name) => call(() => read(name)),
    set: (name, value) =>
      call(async () => {
        await driver.execute(driver.dialect.upsert(table, [keyColumn, "value"], [keyColumn], ["value"]), [
          settingKey(name),
          value,
        ]);
      }),
    setIfAbsent: (name, value) =>
      call(async () => {
        await driver.execute(driver.dialect.insertIfAbsent(table, [keyColumn, "value"], [keyColumn]), [
          settingKey(name),
          value,
        ]);
        return (await read(name)) ?? value;
      }),
  };
}
