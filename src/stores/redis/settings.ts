import { settingKey, type SettingsStore } from "../settings.js";
import type { RedisConnection } from "./connection.js";

/** Settings under `<prefix>setting:<name>`, one string key each (SET NX for setIfAbsent). */
export function createRedisSettingsStore(conn: RedisConnection, prefix: string): SettingsStore {
  const key = (name: string): string => `${prefix}${settingKey(name)}`;
  const get = async (name: string): Promise<string | null> => {
    const value = await conn.run(() => conn.command(["GET", key(name)]));
    return value === null || value === undefined ? null : String(value);
  };
  return {
    get,
    set: async (name, value) => {
      await conn.run(() => conn.command(["SET", key(name), value]));
    },
    setIfAbsent: async (name, value) => {
      await conn.run(() => conn.command(["SET", key(name), value, "NX"]));
      return (await get(name)) ?? value;
    },
  };
}
