/**
 * The one polling wait of the test suite: events, replies and store writes arrive asynchronously, so a test looks
 * again until what it awaits is there, and fails naming it once the deadline has passed (never waits forever).
 */

/**
 * Calls `probe` until it gives a truthy value and resolves with that value (`true` for a condition); after `ms` ms it
 * rejects with "timed out after <ms> ms waiting for <what>" (`what` may be a function, to name what was seen by then,
 * e.g. the output so far). It looks again after 10 ms, then less often (up to every 100 ms), so a quick answer is
 * seen at once and a long wait does not load the store. The deadline guards against a hang; it is not a speed
 * requirement.
 */
export async function until<T>(
  probe: () => T | Promise<T>,
  what: string | (() => string),
  ms = 2_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (let pause = 10; ; pause = Math.min(pause * 1.5, 100)) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === "function" ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
