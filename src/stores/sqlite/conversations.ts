import type { Database } from "better-sqlite3";
import { parseConversation, type ConversationRecord, type ConversationStore } from "../conversations.js";
import { guard } from "./connection.js";

const CONVERSATIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS conversations (
  session_id TEXT PRIMARY KEY,
  record TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_expires ON conversations (expires_at);
`;

/** Conversations in the gateway's SQLite file, one row per session; expired rows are never read and swept now and then. */
export function createSqliteConversationStore(db: Database, now: () => number = Date.now): ConversationStore {
  db.exec(CONVERSATIONS_SCHEMA);
  const read = db.prepare<[string, number], { record: string }>("SELECT record FROM conversations WHERE session_id = ? AND expires_at > ?");
  const write = db.prepare(
    `INSERT INTO conversations (session_id, record, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (session_id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at`,
  );
  const remove = db.prepare("DELETE FROM conversations WHERE session_id = ?");
  const sweep = db.prepare("DELETE FROM conversations WHERE expires_at <= ?");
  let writes = 0;
  return {
    async get(sessionId) {
      return guard(() => parseConversation(read.get(sessionId, now())?.record));
    },
    async put(sessionId: string, record: ConversationRecord, ttlMs: number) {
      const at = now();
      guard(() => {
        if (++writes % 500 === 0) sweep.run(at);
        write.run(sessionId, JSON.stringify(record), at + ttlMs);
      });
    },
    async delete(sessionId) {
      guard(() => remove.run(sessionId));
    },
  };
}
