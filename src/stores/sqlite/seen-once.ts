import type { Database } from "better-sqlite3";
import type { SeenOnceStore } from "../types.js";
import { guard } from "./connection.js";

export const SEEN_ONCE_SCHEMA = `
CREATE TABLE IF NOT EXISTS seen_once (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_once_expires ON seen_once (expires_at);
`;

/**
 * Seen-once keys in the gateway's SQLite file: one statement claims a key that is new or expired (SQLite serialises
 * writers, so of two processes exactly one gets the row back); expired rows are swept now and then.
 */
export function createSqliteSeenOnceStore(db: Database, now: () => number = Date.now): SeenOnceStore {
  db.exec(SEEN_ONCE_SCHEMA);
  const claim = db.prepare(
    `INSERT INTO seen_once (key, expires_at) VALUES (@key, @expires)
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_once.expires_at <= @now
     RETURNING key`,
  );
  const sweep = db.prepare("DELETE FROM seen_once WHERE expires_at <= ?");
  let claims = 0;
  return {
    async firstSighting(key, ttlMs) {
      const at = now();
      return guard(() => {
        if (++claims % 1000 === 0) sweep.run(at);
        return claim.get({ key, expires: at + ttlMs, now: at }) !== undefined;
      });
    },
  };
}
