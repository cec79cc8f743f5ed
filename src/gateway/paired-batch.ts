import type { MaybePromise } from "../protocols/types.js";
import type { SenderRef } from "../stores/types.js";
import type { GatewayPairingStore } from "./context.js";

interface Waiting extends SenderRef {
  resolve: (paired: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * The admission checks of one turn of the event loop, asked of the store together: every `isPaired` made while the
 * turn's messages are read is answered by one `isPairedMany` once they all are (on SQLite one read transaction, on
 * Redis one HMGET, on PostgreSQL one query), instead of one store round each. The store is asked after every message
 * of the batch arrived, so a revoke that committed before a message came in is always seen by that message's check.
 */
class PairedBatch {
  private waiting: Waiting[] = [];

  constructor(private readonly store: GatewayPairingStore & Required<Pick<GatewayPairingStore, "isPairedMany">>) {}

  isPaired(channelId: string, channelType: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.waiting.push({ channelId, channelType, resolve, reject }) === 1) setImmediate(this.flush);
    });
  }

  private readonly flush = (): void => {
    const batch = this.waiting;
    this.waiting = [];
    let answered: Promise<boolean[]>;
    try {
      answered = Promise.resolve(this.store.isPairedMany(batch));
    } catch (error) {
      answered = Promise.reject(error);
    }
    answered.then(
      (answers) => {
        if (!Array.isArray(answers) || answers.length !== batch.length) {
          const error = new TypeError(`pairingStore.isPairedMany answered ${describe(answers)} for ${batch.length} senders`);
          for (const w of batch) w.reject(error);
          return;
        }
        batch.forEach((w, i) => w.resolve(answers[i] === true));
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  };
}

function describe(answers: unknown): string {
  return Array.isArray(answers) ? `${answers.length} answers` : typeof answers;
}

const batches = new WeakMap<GatewayPairingStore, PairedBatch>();

/**
 * `store.isPaired(channelId, channelType)` for admission: batched per event-loop turn when the store has
 * `isPairedMany` (every built-in store does), asked directly otherwise.
 */
export function isPairedForAdmission(store: GatewayPairingStore, channelId: string, channelType: string): MaybePromise<boolean> {
  if (typeof store.isPairedMany !== "function") return store.isPaired(channelId, channelType);
  let batch = batches.get(store);
  if (!batch) {
    batch = new PairedBatch(store as GatewayPairingStore & Required<Pick<GatewayPairingStore, "isPairedMany">>);
    batches.set(store, batch);
  }
  return batch.isPaired(channelId, channelType);
}
