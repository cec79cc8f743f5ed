import { parseConversation, type ConversationRecord, type ConversationStore } from "../conversations.js";
import type { Clock } from "../types.js";
import { sqlCall, type SqlDriver } from "./driver.js";

/** The longest session id the `conversations` table keeps (its key column). */
export const MAX_CONVERSATION_SESSION_ID = 512;

/**
 * Conversations over any SQL driver, one row per session (table `conversations`); expired rows are never read and are
 * swept now and then. Each put is one upsert, so it needs no write lock.
 */
export function createSqlConversationStore(driver: SqlDriver, now: Clock = Date.now): ConversationStore {
  const table = driver.dialect.table("conversations");
  const upsert = driver.dialect.upsert(
    table,
    ["session_id", "record", "expires_at"],
    ["session_id"],
    ["record", "expires_at"],
  );
  const fits = (sessionId: string): boolean => sessionId.length <= MAX_CONVERSATION_SESSION_ID;
  let writes = 0;
  return {
    async get(sessionId) {
      if (!fits(sessionId)) return null;
      const row = await sqlCall(driver, () =>
        driver.get<{ record: string }>(`SELECT record FROM ${table} WHERE session_id = ? AND expires_at > ?`, [
          sessionId,
          now(),
        ]),
      );
      return parseConversation(row?.record);
    },
    async put(sessionId: string, record: ConversationRecord, ttlMs: number) {
      if (!fits(sessionId))
        throw new TypeError(
          `conversation sessionId must be at most ${MAX_CONVERSATION_SESSION_ID} characters (got ${sessionId.length})`,
        );
      const at = now();
      await sqlCall(driver, async () => {
        if (++writes % 500 === 0) await driver.execute(`DELETE FROM ${table} WHERE expires_at <= ?`, [at]);
        await driver.execute(upsert, [sessionId, JSON.stringify(record), at + ttlMs]);
      });
    },
    async delete(sessionId) {
      if (!fits(sessionId)) return;
      await sqlCall(driver, () => driver.execute(`DELETE FROM ${table} WHERE session_id = ?`, [sessionId]));
    },
  };
}
