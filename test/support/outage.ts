/** Shared by the store outage tests: how a call ended while its server was hung or down. */
import { expect } from "vitest";
import { StoreUnavailableError } from "../../src/pairing/errors.js";

/**
 * Resolves with how the call ended: its error, "answered", or "hung" when it has not answered `hungAfterMs` after it
 * began (long after its deadline: a failure whatever the machine's speed).
 */
export async function outcome(call: () => Promise<unknown>, hungAfterMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise((resolve) => {
    timer = setTimeout(() => resolve("hung"), hungAfterMs);
  });
  try {
    return await Promise.race([
      call().then(
        () => "answered",
        (error: unknown) => error,
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every call, all at once, ends with StoreUnavailableError naming `store` (fail closed), none answers or hangs. */
export async function expectAllUnavailable(
  store: string,
  calls: Record<string, () => Promise<unknown>>,
  hungAfterMs: number,
): Promise<void> {
  const names = Object.keys(calls);
  const results = await Promise.all(Object.values(calls).map((call) => outcome(call, hungAfterMs)));
  results.forEach((result, i) => {
    expect(result, names[i]).toBeInstanceOf(StoreUnavailableError);
    expect((result as StoreUnavailableError).store, names[i]).toBe(store);
  });
}
