import { TokenExistsError } from "../../auth/token-errors.js";
import type { ApiTokenRecord, Clock, TokenStore } from "../types.js";
import type { PostgresDatabase } from "./database.js";

interface TokenRow {
  id: string;
  hash: string;
  role: string;
  user_id: string;
  label: string;
  created_at: string;
}

const toRecord = (row: TokenRow): ApiTokenRecord => ({
  id: row.id,
  hash: row.hash,
  role: row.role,
  userId: row.user_id,
  label: row.label,
  createdAt: Number(row.created_at),
});

/** SQLSTATE unique_violation: the id (primary key) or the hash is taken. */
const UNIQUE_VIOLATION = "23505";

/** API tokens (hashes only) in the shared PostgreSQL schema, so a token created through one instance works on all. */
export function createPostgresTokenStore(db: PostgresDatabase, now: Clock = Date.now): TokenStore {
  const table = db.table("api_tokens");
  return {
    async insert(record) {
      // A unique violation is an answer (which key collided), returned from inside call() so it is not mistaken for an
      // unavailable store; every other failure still becomes StoreUnavailableError there.
      const collided = await db.call(async (): Promise<"id" | "hash" | null> => {
        try {
          await db.query(`INSERT INTO ${table} (id, hash, role, user_id, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
            record.id,
            record.hash,
            record.role,
            record.userId,
            record.label,
            record.createdAt,
          ]);
          return null;
        } catch (error) {
          const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
          if (code === UNIQUE_VIOLATION && constraint === "api_tokens_pkey") return "id";
          if (code === UNIQUE_VIOLATION && constraint === "api_tokens_hash_key") return "hash";
          throw error;
        }
      });
      if (collided) throw new TokenExistsError(collided, record.id);
    },
    async findByHash(hash) {
      const rows = await db.call(() => db.query<TokenRow>(`SELECT * FROM ${table} WHERE hash = $1`, [hash], true));
      return rows.rows[0] ? toRecord(rows.rows[0]) : null;
    },
    async list() {
      const rows = await db.call(() => db.query<TokenRow>(`SELECT * FROM ${table} ORDER BY created_at, id`));
      return rows.rows.map(toRecord);
    },
    async delete(id) {
      // One transaction, so the row and its audit event (which reaches every instance's subscribers) go together.
      return db.call(() =>
        db.withClient((client) => db.transaction(client, null, async (tx) => {
          const deleted = await tx.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
          if (deleted.rowCount !== 1) return false;
          await db.appendAudit(tx, { at: now(), type: "token-revoked", channelType: "token", channelId: id, actor: "owner", detail: {} });
          return true;
        })),
      );
    },
    async count() {
      const rows = await db.call(() => db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`));
      return rows.rows[0]?.n ?? 0;
    },
  };
}
