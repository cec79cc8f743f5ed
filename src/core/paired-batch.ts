import type { SenderRef } from "../stores/types.js";
import type { GatewayPairingStore } from "./context.js";
import { type DeadlineWatch, STORE_DEADLINE_MS, watchDeadline, withDeadline } from "./deadline.js";

interface Waiting extends SenderRef {
  resolve: (paired: boolean) => void;
  reject: (error: unknown) => void;
  /** The check's own deadline (it may wait for the round under way, then its own). */
  watch: DeadlineWatch;
}

/**
 * The admission checks made while a store round is under way, asked of the store together: every `isPaired` is
 * answered by one `isPairedMany` (on SQLite one read transaction, on Redis one HMGET, on PostgreSQL one query) instead
 * of one store round each. One round runs at a time; the checks that come in meanwhile wait for it to end and then go
 * together, so batches grow with load (a lone check goes at the end of the current event-loop turn). The store is
 * always asked after every message of a batch arrived, so a revoke that committed before a message came in is seen by
 * that message's check. A round that outlives the store deadline fails its checks (closed) and frees the next round.
 */
class PairedBatch {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private inFlight = false;

  constructor(private readonly store: GatewayPairingStore & Required<Pick<GatewayPairingStore, "isPairedMany">>) {}

  isPaired(channelId: string, channelType: string, operation: string, deadlineMs: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const watch = watchDeadline(operation, reject, deadlineMs);
      this.waiting.push({ channelId, channelType, resolve, reject, watch });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    this.inFlight = true;
    withDeadline("pairing.isPairedMany", () => this.store.isPairedMany(batch))
      .then((answers) => {
        if (!Array.isArray(answers) || answers.length !== batch.length) {
          throw new TypeError(`pairingStore.isPairedMany answered ${describe(answers)} for ${batch.length} senders`);
        }
        batch.forEach((w, i) => {
          w.watch.reject = undefined;
          w.resolve(answers[i] === true);
        });
      })
      .catch((error: unknown) => {
        for (const w of batch) {
          w.watch.reject = undefined;
          w.reject(error);
        }
      })
      .finally(this.next);
  };

  private readonly next = (): void => {
    this.inFlight = false;
    this.schedule();
  };
}

function describe(answers: unknown): string {
  return Array.isArray(answers) ? `${answers.length} answers` : typeof answers;
}

const batches = new WeakMap<GatewayPairingStore, PairedBatch>();

/**
 * `store.isPaired(channelId, channelType)` for admission, failed (closed) when it has not answered within
 * `deadlineMs`: asked in batches (see PairedBatch) when the store has `isPairedMany` (every built-in store does),
 * directly otherwise. `operation` names the call in a deadline error.
 */
export function isPairedForAdmission(
  store: GatewayPairingStore,
  channelId: string,
  channelType: string,
  deadlineMs = STORE_DEADLINE_MS,
  operation = "pairing.isPaired",
): Promise<boolean> {
  if (typeof store.isPairedMany !== "function")
    return withDeadline(operation, () => store.isPaired(channelId, channelType), deadlineMs);
  let batch = batches.get(store);
  if (!batch) {
    batch = new PairedBatch(store as GatewayPairingStore & Required<Pick<GatewayPairingStore, "isPairedMany">>);
    batches.set(store, batch);
  }
  return batch.isPaired(channelId, channelType, operation, deadlineMs);
}
