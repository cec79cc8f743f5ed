import { TokenExistsError } from "../../auth/token-errors.js";
import type { ApiTokenRecord, Clock, TokenStore } from "../types.js";
import type { SqlAuditLog } from "./audit.js";
import { sqlCall, type SqlDriver } from "./driver.js";

const toRecord = (row: Record<string, unknown>): ApiTokenRecord => ({
  id: String(row.id),
  hash: String(row.hash),
  role: String(row.role),
  userId: String(row.user_id),
  label: String(row.label),
  createdAt: Number(row.created_at),
});

/**
 * API tokens (hashes only) over any SQL driver, shared by every instance. Inserts and deletes run under the store's
 * write lock, so of two instances inserting one id exactly one wins; a delete appends `token-revoked` to the audit log.
 */
export function createSqlTokenStore(driver: SqlDriver, log: SqlAuditLog, now: Clock): TokenStore {
  const table = driver.dialect.table("api_tokens");
  const write = <T>(work: Parameters<SqlDriver["write"]>[0]) =>
    sqlCall(driver, (deadline) => driver.write(work, deadline) as Promise<T>);
  return {
    async insert(record) {
      const collided = await write<"id" | "hash" | null>(async (tx) => {
        if (await tx.get(`SELECT 1 AS x FROM ${table} WHERE id = ?`, [record.id])) return "id";
        if (await tx.get(`SELECT 1 AS x FROM ${table} WHERE hash = ?`, [record.hash])) return "hash";
        await tx.execute(
          `INSERT INTO ${table} (id, hash, role, user_id, label, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
          [record.id, record.hash, record.role, record.userId, record.label, record.createdAt],
        );
        return null;
      });
      if (collided) throw new TokenExistsError(collided, record.id);
    },
    async findByHash(hash) {
      const row = await sqlCall(driver, () =>
        driver.get<Record<string, unknown>>(`SELECT * FROM ${table} WHERE hash = ?`, [hash]),
      );
      return row ? toRecord(row) : null;
    },
    async list() {
      return (
        await sqlCall(driver, () =>
          driver.all<Record<string, unknown>>(`SELECT * FROM ${table} ORDER BY created_at, id`),
        )
      ).map(toRecord);
    },
    async delete(id) {
      const deleted = await write<boolean>(async (tx) => {
        if ((await tx.execute(`DELETE FROM ${table} WHERE id = ?`, [id])) === 0) return false;
        await log.append(tx, {
          at: now(),
          type: "token-revoked",
          channelType: "token",
          channelId: id,
          actor: "owner",
          detail: {},
        });
        return true;
      });
      void log.pump();
      return deleted;
    },
    async count() {
      const row = await sqlCall(driver, () => driver.get<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`));
      return Number(row?.n ?? 0);
    },
  };
}
