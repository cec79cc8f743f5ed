import { parseConversation, type ConversationRecord, type ConversationStore } from "../conversations.js";
import type { PostgresDatabase } from "./database.js";

/**
 * Conversations in the shared PostgreSQL schema, one row per session; expired rows are never read and swept now and
 * then. The table is created (under an advisory lock, so instances starting together do not race) when missing.
 */
export async function openPostgresConversationStore(db: PostgresDatabase, now: () => number = Date.now): Promise<ConversationStore> {
  const table = db.table("conversations");
  await db.call(() =>
    db.withClient((client) =>
      db.transaction(client, "conversations:schema", async (tx) => {
        await tx.query(`CREATE TABLE IF NOT EXISTS ${table} (session_id text PRIMARY KEY, record text NOT NULL, expires_at bigint NOT NULL)`);
        await tx.query(`CREATE INDEX IF NOT EXISTS conversations_expires ON ${table} (expires_at)`);
      }),
    ),
  );
  let writes = 0;
  return {
    async get(sessionId) {
      const result = await db.call(() => db.query<{ record: string }>(`SELECT record FROM ${table} WHERE session_id = $1 AND expires_at > $2`, [sessionId, now()]));
      return parseConversation(result.rows[0]?.record);
    },
    async put(sessionId: string, record: ConversationRecord, ttlMs: number) {
      const at = now();
      await db.call(async () => {
        if (++writes % 500 === 0) await db.query(`DELETE FROM ${table} WHERE expires_at <= $1`, [at]);
        await db.query(
          `INSERT INTO ${table} (session_id, record, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (session_id) DO UPDATE SET record = EXCLUDED.record, expires_at = EXCLUDED.expires_at`,
          [sessionId, JSON.stringify(record), at + ttlMs],
        );
      });
    },
    async delete(sessionId) {
      await db.call(() => db.query(`DELETE FROM ${table} WHERE session_id = $1`, [sessionId]));
    },
  };
}
