import type { RedisConnection } from "./connection.js";

interface Waiting {
  field: string;
  resolve: (paired: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * The isPaired hot path: every lookup is one command on the `paired` hash, and lookups issued in the same turn of the
 * event loop share it (HEXISTS for one, HMGET for many), so 64 concurrent callers cost one round trip and one reply
 * instead of 64. Each batch runs under the store's deadline.
 */
export class PairedLookups {
  private waiting: Waiting[] = [];

  constructor(
    private readonly conn: RedisConnection,
    private readonly key: string,
  ) {}

  has(field: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ field, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    const only = batch.length === 1 ? batch[0] : undefined;
    const args = only ? ["HEXISTS", this.key, only.field] : ["HMGET", this.key, ...batch.map((w) => w.field)];
    this.conn.run(() => this.conn.command(args)).then(
      (reply) => {
        if (only) {
          only.resolve(Number(reply) === 1);
          return;
        }
        const values = Array.isArray(reply) ? reply : [];
        batch.forEach((w, i) => w.resolve(values[i] !== null && values[i] !== undefined));
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  }
}
