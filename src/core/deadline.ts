import { performance } from "node:perf_hooks";
import { isPromiseLike } from "./promise-like.js";

/** How long one store call may take on the admission path before the gateway fails closed. */
export const STORE_DEADLINE_MS = 2_000;

/** Thrown when a store call did not answer within its deadline. */
export class StoreDeadlineError extends Error {
  /** Stable code (see src/errors.ts, ERROR_CODES). */
  readonly code = "GH_ERR_STORE_DEADLINE";
  override readonly name = "StoreDeadlineError";
  constructor(
    readonly operation: string,
    readonly deadlineMs: number,
  ) {
    super(`${operation} did not answer within ${deadlineMs} ms`);
  }
}

interface Waiter extends DeadlineWatch {
  /** performance.now() at which the call is late. */
  readonly at: number;
  readonly operation: string;
}

/**
 * Every call waiting under one deadline length, in the order they started, which is also the order they fall due: one
 * timer, armed for the oldest unsettled call, serves them all (instead of a setTimeout and clearTimeout per call).
 * A call that settles only marks its entry; the timer skips such entries when it fires, and each new call first drops
 * the settled ones at the front. Calls settle in about the order they start, so the queue holds the calls under way,
 * not every call of the last deadline's length (at 60k admission checks a second and 2 s, 120k entries that outlived
 * the young generation and cost the garbage collector their copying).
 */
class DeadlineQueue {
  private waiters: Waiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deadlineMs: number,
    /** The length as the caller gave it, for the error message. */
    private readonly statedMs: number,
  ) {}

  add(operation: string, reject: (error: Error) => void): Waiter {
    this.dropSettled();
    const waiter: Waiter = { at: performance.now() + this.deadlineMs, operation, reject };
    this.waiters.push(waiter);
    if (!this.timer) this.arm(this.deadlineMs);
    return waiter;
  }

  /** Drops the settled calls at the front; the array is emptied in place when none is left under way. */
  private dropSettled(): void {
    const waiters = this.waiters;
    let head = this.head;
    while (head < waiters.length && waiters[head]!.reject === undefined) head++;
    if (head === waiters.length) {
      waiters.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > waiters.length) {
      this.waiters = waiters.slice(head);
      head = 0;
    }
    this.head = head;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(ms)));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    const waiters = this.waiters;
    for (let index = this.head; index < waiters.length; index++) {
      const waiter = waiters[index]!;
      if (waiter.reject === undefined) continue;
      if (waiter.at > now) break;
      const reject = waiter.reject;
      waiter.reject = undefined;
      reject(new StoreDeadlineError(waiter.operation, this.statedMs));
    }
    this.dropSettled();
    const next = this.waiters[this.head];
    if (next) this.arm(next.at - now);
  };
}

const queues = new Map<number, DeadlineQueue>();
const TIMEOUT_MAX = 2 ** 31 - 1;

function queueFor(deadlineMs: number): DeadlineQueue {
  // The lengths setTimeout would use: anything that is not 1..TIMEOUT_MAX ms becomes 1 ms.
  let queue = queues.get(deadlineMs);
  if (!queue) {
    queue = new DeadlineQueue(deadlineMs >= 1 && deadlineMs <= TIMEOUT_MAX ? deadlineMs : 1, deadlineMs);
    queues.set(deadlineMs, queue);
  }
  return queue;
}

/** A call under watch: clear `reject` once it has settled, so the deadline no longer fails it. */
export interface DeadlineWatch {
  reject: ((error: Error) => void) | undefined;
}

/**
 * Calls `reject` with a StoreDeadlineError if the watch's `reject` is still set after `deadlineMs`: the deadline of
 * withDeadline for a caller that already makes a promise of its own (the admission batch), one promise fewer per call.
 */
export function watchDeadline(
  operation: string,
  reject: (error: Error) => void,
  deadlineMs = STORE_DEADLINE_MS,
): DeadlineWatch {
  return queueFor(deadlineMs).add(operation, reject);
}

/**
 * Runs a sync-or-async store call and rejects when it throws or has not settled within `deadlineMs`.
 * A synchronous throw becomes a rejection, so callers handle both alike. A call that answers synchronously needs no
 * deadline; one that returns a promise is watched by its deadline length's shared timer.
 */
export function withDeadline<T>(
  operation: string,
  call: () => T | Promise<T>,
  deadlineMs = STORE_DEADLINE_MS,
): Promise<T> {
  // Not an async function: returning the promise below from one would cost the caller extra microtask turns.
  let result: T | Promise<T>;
  try {
    result = call();
  } catch (error) {
    return Promise.reject(error as Error);
  }
  if (!isPromiseLike(result)) return Promise.resolve(result);
  return new Promise<T>((resolve, reject) => {
    const waiter = queueFor(deadlineMs).add(operation, reject);
    result.then(
      (value) => {
        waiter.reject = undefined;
        resolve(value);
      },
      (error: unknown) => {
        waiter.reject = undefined;
        reject(error);
      },
    );
  });
}
