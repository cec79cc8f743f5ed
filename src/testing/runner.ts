import type { PairingRules } from "../stores/types.js";
import { DEFAULT_PAIRING_RULES } from "../stores/types.js";
import type { MaybePromise } from "../protocols/types.js";

/** The test runner's own functions, so the suites run under vitest, node:test or jest alike. */
export interface SuiteRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>, timeout?: number): unknown;
}

/** A clock the suite moves by hand, so expiry is tested without sleeping. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export function createTestClock(start = Date.UTC(2030, 0, 1)): TestClock {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

/** What a factory gets: build the store with exactly these (clock, rules, secret) or the suite's checks will not hold. */
export interface SuiteContext {
  now: () => number;
  clock: TestClock;
  rules: PairingRules;
  secret: Buffer;
  /** Idle TTL for session stores, milliseconds. */
  idleTtlMs: number;
}

/** Rules the suite runs with: the defaults, with a small cap so the cap is reached quickly. */
export const SUITE_RULES: PairingRules = { ...DEFAULT_PAIRING_RULES, maxPendingPerChannelType: 5 };
export const SUITE_IDLE_TTL_MS = 30 * 60_000;

export type StoreFactory<T> = (context: SuiteContext) => MaybePromise<T>;

/** Closes what a factory returned, if it can be closed. */
export async function closeIfPossible(store: unknown): Promise<void> {
  const close = (store as { close?: unknown } | null)?.close;
  if (typeof close === "function") await (close as () => unknown).call(store);
}
