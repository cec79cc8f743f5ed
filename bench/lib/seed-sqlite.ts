import Database from "better-sqlite3";
import { serializePrincipal } from "../../src/stores/principal.js";
import type { Population } from "./dataset.js";

/** Seeded rows get seq values below any audit id the store hands out, unique and in seeding order. */
const SEQ_BASE = 1_000_000_000_000;

/**
 * Writes paired senders and their sessions into the SQLite file (tables of src/stores/sqlite/schema.ts) through a
 * second connection: one transaction, two prepared inserts. The store's own connection sees the rows at once (WAL).
 * The schema is read first, so a `seq` column (insertion order) is filled when the schema has one.
 */
export function seedSqlite(file: string, people: Population, from: number, to: number): void {
  const db = new Database(file, { timeout: 10_000 });
  try {
    const columns = new Set((db.pragma("table_info(paired)") as { name: string }[]).map((column) => column.name));
    const withSeq = columns.has("seq");
    const pair = db.prepare(
      withSeq
        ? "INSERT INTO paired (channel_type, channel_id, label, paired_at, approved_by, seq) VALUES (?, ?, ?, ?, 'owner', ?)"
        : "INSERT INTO paired (channel_type, channel_id, label, paired_at, approved_by) VALUES (?, ?, ?, ?, 'owner')",
    );
    const bind = db.prepare("INSERT INTO sessions (session_id, principal, last_seen) VALUES (?, ?, ?)");
    const now = Date.now();
    db.transaction(() => {
      for (let i = from; i < to; i++) {
        const row = [people.channelType, people.idOf(i), people.labelOf(i), now];
        pair.run(...(withSeq ? [...row, i - SEQ_BASE] : row));
        bind.run(people.sessionOf(i), serializePrincipal(people.principalOf(i)), now);
      }
    }).immediate();
    db.exec("ANALYZE");
  } finally {
    db.close();
  }
}
