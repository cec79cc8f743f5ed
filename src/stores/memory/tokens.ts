import { TokenExistsError } from "../../auth/token-errors.js";
import type { ApiTokenRecord, TokenStore } from "../types.js";

/** API tokens in this process's memory (hashes only), gone on exit. */
export class MemoryTokenStore implements TokenStore {
  private readonly byId = new Map<string, ApiTokenRecord>();
  private readonly idByHash = new Map<string, string>();

  /** `onDeleted` hears of every deleted token (openMemoryStores records it in the pairing store's audit log). */
  constructor(private readonly onDeleted: (id: string) => void = () => {}) {}

  async insert(record: ApiTokenRecord): Promise<void> {
    if (this.byId.has(record.id)) throw new TokenExistsError("id", record.id);
    if (this.idByHash.has(record.hash)) throw new TokenExistsError("hash", record.id);
    this.byId.set(record.id, { ...record });
    this.idByHash.set(record.hash, record.id);
  }

  async findByHash(hash: string): Promise<ApiTokenRecord | null> {
    const id = this.idByHash.get(hash);
    const record = id === undefined ? undefined : this.byId.get(id);
    return record ? { ...record } : null;
  }

  async list(): Promise<ApiTokenRecord[]> {
    return [...this.byId.values()]
      .map((r) => ({ ...r }))
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async delete(id: string): Promise<boolean> {
    const record = this.byId.get(id);
    if (!record) return false;
    this.byId.delete(id);
    this.idByHash.delete(record.hash);
    this.onDeleted(id);
    return true;
  }

  async count(): Promise<number> {
    return this.byId.size;
  }
}
