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
    this.many(batch.map((w) => w.field)).then(
      (answers) => batch.forEach((w, i) => w.resolve(answers[i] === true)),
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  }

  /** One command for these fields of the `paired` hash (HEXISTS for one, HMGET for many), answers in their order. */
  async many(fields: readonly string[]): Promise<boolean[]> {
    const only = fields.length === 1 ? fields[0] : undefined;
    const args = only !== undefined ? ["HEXISTS", this.key, only] : ["HMGET", this.key, ...fields];
    const reply = await this.conn.run(() => this.conn.command(args));
    if (only !== undefined) return [Number(reply) === 1];
    const values = Array.isArray(reply) ? reply : [];
    return fields.map((_, i) => values[i] !== null && values[i] !== undefined);
  }
}
