import type { Database } from "better-sqlite3";
import { TokenExistsError } from "../../auth/token-errors.js";
import type { ApiTokenRecord, Clock, TokenStore } from "../types.js";
import type { SqliteAuditLog } from "./audit-log.js";

interface TokenRow {
  id: string;
  hash: string;
  role: string;
  user_id: string;
  label: string;
  created_at: number;
}

/** The api_tokens table; safe to run on every open (the sqlite migrations may take it over). */
export const API_TOKENS_SCHEMA = `
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  role TEXT NOT NULL,
  user_id TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_hash ON api_tokens (hash);
`;

const toRecord = (row: TokenRow): ApiTokenRecord => ({
  id: row.id,
  hash: row.hash,
  role: row.role,
  userId: row.user_id,
  label: row.label,
  createdAt: row.created_at,
});

/**
 * API tokens (hashes only) in the gateway's SQLite database, so `token create` in one process works in all. Given the
 * audit log, a delete appends `token-revoked` to it in the same transaction; the pairing store's subscribers (here and
 * in other processes) pick it up from there.
 */
export function createSqliteTokenStore(db: Database, audit?: { log: SqliteAuditLog; now: Clock }): TokenStore {
  db.exec(API_TOKENS_SCHEMA);
  const insert = db.prepare(
    "INSERT INTO api_tokens (id, hash, role, user_id, label, created_at) VALUES (@id, @hash, @role, @userId, @label, @createdAt)",
  );
  const byHash = db.prepare<[string], TokenRow>("SELECT * FROM api_tokens WHERE hash = ?");
  const all = db.prepare<[], TokenRow>("SELECT * FROM api_tokens ORDER BY created_at, id");
  const removeRow = db.prepare<[string]>("DELETE FROM api_tokens WHERE id = ?");
  const remove = db.transaction((id: string): boolean => {
    if (removeRow.run(id).changes === 0) return false;
    audit?.log.append({ at: audit.now(), type: "token-revoked", channelType: "token", channelId: id, actor: "owner", detail: {} });
    return true;
  });
  const count = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM api_tokens");
  return {
    async insert(record) {
      try {
        insert.run({ ...record });
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (code === "SQLITE_CONSTRAINT_PRIMARYKEY") throw new TokenExistsError("id", record.id);
        if (code === "SQLITE_CONSTRAINT_UNIQUE") throw new TokenExistsError("hash", record.id);
        throw error;
      }
    },
    async findByHash(hash) {
      const row = byHash.get(hash);
      return row ? toRecord(row) : null;
    },
    async list() {
      return all.all().map(toRecord);
    },
    async delete(id) {
      return remove.immediate(id);
    },
    async count() {
      return count.get()?.n ?? 0;
    },
  };
}
