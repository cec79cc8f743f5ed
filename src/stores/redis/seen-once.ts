import type { SeenOnceStore } from "../types.js";
import type { RedisConnection } from "./connection.js";

/** Seen-once keys in Redis: `SET key 1 NX PX ttl` is atomic, and Redis expires the key itself. */
export class RedisSeenOnceStore implements SeenOnceStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly prefix: string,
  ) {}

  async firstSighting(key: string, ttlMs: number): Promise<boolean> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    const reply = await this.conn.run(() =>
      this.conn.command(["SET", `${this.prefix}seen:${key}`, "1", "NX", "PX", ttl]),
    );
    return reply === "OK";
  }
}
