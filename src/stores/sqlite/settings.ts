import type BetterSqlite3 from "better-sqlite3";
import { settingKey, type SettingsStore } from "../settings.js";
import { guard } from "./connection.js";

/** Settings in the SQLite meta table, one row each (a write is one statement: atomic across processes). */
export function createSqliteSettingsStore(db: BetterSqlite3.Database): SettingsStore {
  const read = db.prepare("SELECT value FROM meta WHERE key = ?").pluck();
  const upsert = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  const insert = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING");
  const get = (name: string): string | null => (guard(() => read.get(settingKey(name))) as string | undefined) ?? null;
  return {
    get: async (name) => get(name),
    set: async (name, value) => {
      guard(() => upsert.run(settingKey(name), value));
    },
    setIfAbsent: async (name, value) => {
      guard(() => insert.run(settingKey(name), value));
      return get(name) ?? value;
    },
  };
}
