import { parseConversation, type ConversationRecord, type ConversationStore } from "../conversations.js";
import type { RedisConnection } from "./connection.js";

/** Conversations in Redis: one string key per session written with `SET … PX ttl`, so Redis expires idle ones itself. */
export class RedisConversationStore implements ConversationStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly prefix: string,
  ) {}

  private key(sessionId: string): string {
    return `${this.prefix}conversation:${sessionId}`;
  }

  async get(sessionId: string): Promise<ConversationRecord | null> {
    const reply = await this.conn.run(() => this.conn.command(["GET", this.key(sessionId)]));
    return parseConversation(typeof reply === "string" ? reply : null);
  }

  async put(sessionId: string, record: ConversationRecord, ttlMs: number): Promise<void> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    await this.conn.run(() => this.conn.command(["SET", this.key(sessionId), JSON.stringify(record), "PX", ttl]));
  }

  async delete(sessionId: string): Promise<void> {
    await this.conn.run(() => this.conn.command(["DEL", this.key(sessionId)]));
  }
}
