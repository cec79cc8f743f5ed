import type { SeenOnceStore } from "../types.js";
import type { PostgresDatabase } from "./database.js";

/**
 * Seen-once keys in the shared PostgreSQL schema: one upsert claims a key that is new or expired (the row lock makes
 * exactly one of two racing instances get it back); expired rows are swept now and then (table from migration 2).
 */
export function createPostgresSeenOnceStore(db: PostgresDatabase, now: () => number = Date.now): SeenOnceStore {
  const table = db.table("seen_once");
  let claims = 0;
  return {
    async firstSighting(key, ttlMs) {
      const at = now();
      return db.call(async () => {
        if (++claims % 1000 === 0) await db.query(`DELETE FROM ${table} WHERE expires_at <= $1`, [at]);
        const result = await db.query(
          `INSERT INTO ${table} (key, expires_at) VALUES ($1, $2)
           ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE ${table}.expires_at <= $3
           RETURNING key`,
          [key, at + ttlMs, at],
        );
        return result.rowCount === 1;
      });
    },
  };
}
