import { senderKey } from "../shared.js";
import { sqlCall, type PairedLookup } from "../sql/driver.js";
import type { SenderRef } from "../types.js";
import type { PostgresDriver } from "./database.js";

interface Waiting extends SenderRef {
  resolve: (paired: boolean) => void;
  reject: (error: unknown) => void;
}

/** Largest batch sent as one statement. */
const MAX_PAIRED_BATCH = 256;

/**
 * isPaired is the hot path: the lookups asked for in the same tick go to PostgreSQL as one statement (a primary-key
 * probe per sender), so many concurrent callers cost a few round trips instead of one each. A lone caller waits for no
 * one: its batch leaves on the next tick. Each caller gets the store's deadline and errors.
 */
export class PostgresPairedLookup implements PairedLookup {
  private queue: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly db: PostgresDriver) {}

  isPaired(channelId: string, channelType: string): Promise<boolean> {
    return sqlCall(this.db, () => this.queued(channelType, channelId));
  }

  many(senders: readonly SenderRef[]): Promise<boolean[]> {
    return sqlCall(this.db, () => this.send(senders));
  }

  private queued(channelType: string, channelId: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ channelType, channelId, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queued = this.queue;
    this.queue = [];
    void this.answer(queued);
  }

  private async answer(batch: Waiting[]): Promise<void> {
    try {
      const answers = await this.send(batch);
      batch.forEach((waiting, index) => waiting.resolve(answers[index] === true));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }

  /**
   * Whether each of these senders (validated by the caller) is paired, in their order: one statement per
   * MAX_PAIRED_BATCH senders, all sent at once.
   */
  private async send(senders: readonly SenderRef[]): Promise<boolean[]> {
    const chunks: Promise<boolean[]>[] = [];
    for (let start = 0; start < senders.length; start += MAX_PAIRED_BATCH)
      chunks.push(this.chunk(senders.slice(start, start + MAX_PAIRED_BATCH)));
    return (await Promise.all(chunks)).flat();
  }

  /**
   * One probe of the primary key for every channel type and id of the chunk (`= ANY` on both columns), then the exact
   * pairs picked out here. About half the backend and client CPU of joining an unnest of the pairs (measured at 1, 6
   * and 25 senders): the query round is what a gateway pays per batch, and with several instances batches are small.
   */
  private async chunk(senders: readonly SenderRef[]): Promise<boolean[]> {
    const types = [...new Set(senders.map((s) => s.channelType))];
    const ids = [...new Set(senders.map((s) => s.channelId))];
    const rows = await this.db.prepared<{ channel_type: string; channel_id: string }>(
      `SELECT channel_type, channel_id FROM ${this.db.table("paired")}
       WHERE channel_type = ANY($1::text[]) AND channel_id = ANY($2::text[])`,
      [types, ids],
    );
    const paired = new Set(rows.map((row) => senderKey(row.channel_type, row.channel_id)));
    return senders.map((s) => paired.has(senderKey(s.channelType, s.channelId)));
  }
}
