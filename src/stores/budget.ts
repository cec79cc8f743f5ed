/**
 * A rate budget kept in the store, so every gateway instance spends the same one: `capacity` units at once, refilled
 * at `refillPerSecond`. Stored as one number per key, the theoretical arrival time of the next unit (GCRA, the
 * "generic cell rate algorithm": a token bucket without a refill timer), which each backend updates atomically.
 */
export interface RateLimit {
  capacity: number;
  refillPerSecond: number;
}

/** The store's atomic budgets (every built-in store has one: `Stores.budgets`). */
export interface BudgetStore {
  /**
   * Spends one unit of `key`'s budget, atomically across processes and instances: true when it was there, false when
   * the budget is spent (nothing changed). Reserve before the work the unit pays for, so parallel callers cannot all
   * see it unspent.
   */
  take(key: string, limit: RateLimit): Promise<boolean>;
  /** Gives one unit back (the work it was reserved for did not happen). */
  giveBack(key: string, limit: RateLimit): Promise<void>;
}

/** Longest key accepted (the caller's prefix and a network address fit well within it). */
export const MAX_BUDGET_KEY_LENGTH = 200;

/** The emission interval (ms per unit) and burst tolerance (ms) of a limit; throws a TypeError on a bad one. */
export function budgetTiming(key: string, limit: RateLimit): { intervalMs: number; toleranceMs: number } {
  if (typeof key !== "string" || key === "" || key.length > MAX_BUDGET_KEY_LENGTH) {
    throw new TypeError(`budget key must be a string of 1-${MAX_BUDGET_KEY_LENGTH} characters`);
  }
  const { capacity, refillPerSecond } = limit ?? {};
  if (
    !Number.isInteger(capacity) ||
    capacity < 1 ||
    !(typeof refillPerSecond === "number" && refillPerSecond > 0 && Number.isFinite(refillPerSecond))
  ) {
    throw new TypeError("a budget needs an integer capacity >= 1 and refillPerSecond > 0");
  }
  const intervalMs = 1000 / refillPerSecond;
  return { intervalMs, toleranceMs: (capacity - 1) * intervalMs };
}

/** The next stored arrival time after taking a unit at `now`, or null when the budget is spent. */
export function afterTake(
  stored: number | undefined,
  now: number,
  timing: { intervalMs: number; toleranceMs: number },
): number | null {
  const arrival = Math.max(stored ?? now, now);
  if (arrival - now > timing.toleranceMs) return null;
  return arrival + timing.intervalMs;
}

/** The stored arrival time after giving a unit back at `now`; at or before `now` the key can be forgotten. */
export function afterGiveBack(stored: number | undefined, now: number, timing: { intervalMs: number }): number {
  return Math.max(now, (stored ?? now) - timing.intervalMs);
}
