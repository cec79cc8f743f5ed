/** How long one store call may take on the admission path before the gateway fails closed. */
export const STORE_DEADLINE_MS = 2_000;

/** Thrown when a store call did not answer within its deadline. */
export class StoreDeadlineError extends Error {
  override readonly name = "StoreDeadlineError";
  constructor(
    readonly operation: string,
    readonly deadlineMs: number,
  ) {
    super(`${operation} did not answer within ${deadlineMs} ms`);
  }
}

/**
 * Runs a sync-or-async store call and rejects when it throws or has not settled within `deadlineMs`.
 * A synchronous throw becomes a rejection, so callers handle both alike.
 */
export async function withDeadline<T>(operation: string, call: () => T | Promise<T>, deadlineMs = STORE_DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreDeadlineError(operation, deadlineMs)), deadlineMs);
    timer.unref?.();
  });
  try {
    return await Promise.race([Promise.resolve().then(call), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
