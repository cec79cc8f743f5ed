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
  const controller = new AbortController();
  const endsAt = Date.now() + timeoutMs;
  const expired = (): StoreUnavailableError =>
    new StoreUnavailableError(store, { cause: new Error(`no answer within ${timeoutMs} ms`) });
  const deadline: CallDeadline = {
    signal: controller.signal,
    passed: () => controller.signal.aborted || Date.now() >= endsAt,
    check: () => {
      if (deadline.passed()) throw expired();
    },
  };
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = expired();
      controller.abort(error);
      reject(error);
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
