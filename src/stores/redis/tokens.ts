import { TokenExistsError } from "../../auth/token-errors.js";
import type { ApiTokenRecord, Clock, TokenStore } from "../types.js";
import type { RedisConnection } from "./connection.js";
import { RedisKeys } from "./keys.js";
import { TOKEN_DELETE, TOKEN_FIND, TOKEN_INSERT } from "./scripts.js";

function toRecord(text: string): ApiTokenRecord {
  const raw = JSON.parse(text) as Record<string, unknown>;
  return {
    id: String(raw.id),
    hash: String(raw.hash),
    role: String(raw.role),
    userId: String(raw.userId),
    label: String(raw.label ?? ""),
    createdAt: Number(raw.createdAt),
  };
}

/**
 * API tokens (hashes only) in Redis, so a token minted by the CLI works on every gateway instance: a hash of records by
 * id plus a unique index hash -> id; inserting and deleting keep both in step in one script, and a lookup by hash is
 * one round trip. It lives as long as the stores opened with it (it holds no claim on the connection of its own).
 */
export class RedisTokenStore implements TokenStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly conn: RedisConnection,
    prefix: string,
    private readonly now: Clock = Date.now,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async insert(record: ApiTokenRecord): Promise<void> {
    const { id, hash, role, userId, label, createdAt } = record;
    const json = JSON.stringify({ id, hash, role, userId, label, createdAt });
    const reply = await this.conn.run(() => this.conn.eval(TOKEN_INSERT, this.tokenKeys(), [id, hash, json]));
    if (reply === "id-exists") throw new TokenExistsError("id", id);
    if (reply === "hash-exists") throw new TokenExistsError("hash", id);
  }

  async findByHash(hash: string): Promise<ApiTokenRecord | null> {
    const reply = await this.conn.run(() => this.conn.eval(TOKEN_FIND, this.tokenKeys(), [hash]));
    return typeof reply === "string" ? toRecord(reply) : null;
  }

  async list(): Promise<ApiTokenRecord[]> {
    const reply = await this.conn.run(() => this.conn.command(["HVALS", this.keys.tokens]));
    const records = Array.isArray(reply) ? reply.map((text) => toRecord(String(text))) : [];
    return records.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async delete(id: string): Promise<boolean> {
    // The same script appends token-revoked to the audit stream, which every instance tails.
    const keys = [...this.tokenKeys(), this.keys.audit];
    const reply = await this.conn.run(async () => {
      const deleted = await this.conn.eval(TOKEN_DELETE, keys, [id, String(Math.trunc(this.now()))]);
      // a deleted token must stay deleted after a failover
      if (Number(deleted) === 1) await this.conn.replicated();
      return deleted;
    });
    return Number(reply) === 1;
  }

  async count(): Promise<number> {
    return Number(await this.conn.run(() => this.conn.command(["HLEN", this.keys.tokens])));
  }

  private tokenKeys(): string[] {
    return [this.keys.tokens, this.keys.tokenHashes];
  }
}
