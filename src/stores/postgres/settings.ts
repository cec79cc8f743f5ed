import { settingKey, type SettingsStore } from "../settings.js";
import type { PostgresDatabase } from "./database.js";

/** Settings in the schema's meta table, one row each. */
export function createPostgresSettingsStore(db: PostgresDatabase): SettingsStore {
  const table = db.table("meta");
  const get = async (name: string): Promise<string | null> => {
    const rows = await db.call(() => db.query<{ value: string }>(`SELECT value FROM ${table} WHERE key = $1`, [settingKey(name)]));
    return rows.rows[0]?.value ?? null;
  };
  return {
    get,
    set: async (name, value) => {
      await db.call(() =>
        db.query(`INSERT INTO ${table} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [settingKey(name), value]),
      );
    },
    setIfAbsent: async (name, value) => {
      await db.call(() => db.query(`INSERT INTO ${table} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [settingKey(name), value]));
      return (await get(name)) ?? value;
    },
  };
}
