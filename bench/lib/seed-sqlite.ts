import Database from "better-sqlite3";
import { serializePrincipal } from "../../src/stores/principal.js";
import { BENCH_CHANNEL_TYPE, labelOf, pairedId, principalOf, sessionOf } from "./dataset.js";

/**
 * Writes paired senders and their sessions into the SQLite file (tables of src/stores/sqlite/schema.ts) through a
 * second connection: one transaction, two prepared inserts. The store's own connection sees the rows at once (WAL).
 */
export function seedSqlite(file: string, from: number, to: number): void {
  const db = new Database(file, { timeout: 10_000 });
  try {
    const pair = db.prepare(
      "INSERT INTO paired (channel_type, channel_id, label, paired_at, approved_by) VALUES (?, ?, ?, ?, 'owner')",
    );
    const bind = db.prepare("INSERT INTO sessions (session_id, principal, last_seen) VALUES (?, ?, ?)");
    const now = Date.now();
    db.transaction(() => {
      for (let i = from; i < to; i++) {
        pair.run(BENCH_CHANNEL_TYPE, pairedId(i), labelOf(i), now);
        bind.run(sessionOf(i), serializePrincipal(principalOf(i)), now);
      }
    }).immediate();
    db.exec("ANALYZE");
  } finally {
    db.close();
  }
}
