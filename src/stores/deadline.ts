import { StoreUnavailableError } from "../pairing/errors.js";

/** What the work of one store call can ask about its deadline. */
export interface CallDeadline {
  /** Aborted when the deadline fires (the caller is then told the store is unavailable). */
  readonly signal: AbortSignal;
  /** True once the deadline has passed, even when a busy event loop has not run the timer yet. */
  passed(): boolean;
  /**
   * Throws the deadline's StoreUnavailableError once it has passed. Call it before every step that would change the
   * store, so nothing is created or committed after the caller was told the call failed.
   */
  check(): void;
}

/**
 * Runs one store call: it answers within `timeoutMs` or rejects with StoreUnavailableError(store). The work gets the
 * deadline, so it can stop (and roll back) instead of carrying on unseen after the caller has been answered.
 */
export function runWithDeadline<T>(
  store: string,
  timeoutMs: number,
  work: (deadline: CallDeadline) => Promise<T>,
): Promise<T> {
  // The AbortController is made only for work that asks for the signal: most calls (every isPaired round) never do.
  let controller: AbortController | undefined;
  let timedOut: StoreUnavailableError | undefined;
  const endsAt = Date.now() + timeoutMs;
  const expired = (): StoreUnavailableError =>
    new StoreUnavailableError(store, { cause: new Error(`no answer within ${timeoutMs} ms`) });
  const deadline: CallDeadline = {
    get signal(): AbortSignal {
      if (!controller) {
        controller = new AbortController();
        if (timedOut) controller.abort(timedOut);
      }
      return controller.signal;
    },
    passed: () => timedOut !== undefined || Date.now() >= endsAt,
    check: () => {
      if (deadline.passed()) throw expired();
    },
  };
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      timedOut = expired();
      controller?.abort(timedOut);
      reject(timedOut);
    }, timeoutMs);
    const settle = (): void => clearTimeout(timer);
    let running: Promise<T>;
    try {
      running = work(deadline);
    } catch (error) {
      settle();
      reject(error);
      return;
    }
    running.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}
