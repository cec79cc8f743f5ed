import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { MaybePromise, PairingProtocol } from "../protocols/types.js";
import { type LevelOption, ruleCase, type StoreRuleId } from "./rules.js";
import {
  closeIfPossible,
  createTestClock,
  SUITE_IDLE_TTL_MS,
  SUITE_RULES,
  type StoreFactory,
  type SuiteContext,
  type SuiteRunner,
} from "./runner.js";

/** Runs `body` with a fresh store from the factory and a fresh clock, closing the store afterwards. */
export async function withStore<T>(
  factory: StoreFactory<T>,
  body: (store: T, context: SuiteContext) => MaybePromise<void>,
): Promise<void> {
  const clock = createTestClock();
  const context: SuiteContext = {
    now: clock.now,
    clock,
    rules: { ...SUITE_RULES },
    secret: randomBytes(32),
    idleTtlMs: SUITE_IDLE_TTL_MS,
  };
  const store = await factory(context);
  try {
    await body(store, context);
  } finally {
    await closeIfPossible(store);
  }
}

/** Strings that must never be accepted as a code. */
export const MALFORMED_CODES: readonly unknown[] = [
  "",
  "   ",
  "ABCDEFG",
  "ABCDEFGHJ",
  "0O1IABCD",
  "ABCD-EFG0",
  "АВСDEFGH", // Cyrillic А, В, С look like Latin
  "ＡＢＣＤＥＦＧＨ", // full-width
  "ABCD\u200bEFGH",
  "' OR 1=1 --",
  "ABCD'; DROP TABLE pairing; --",
  "%",
  "*",
  "A".repeat(10_000),
  null,
  undefined,
  12345678,
  { code: "ABCDEFGH" },
];

/** Channel ids and types that are not valid: never paired, never an error that escapes isPaired. */
export const HOSTILE_IDS: readonly unknown[] = ["", "x".repeat(10_000), "a\u0000b", null, 42, { id: "x" }];

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** A snapshot of everything a pairing store shows, to prove that a refused call changed nothing. */
export async function snapshot(store: PairingProtocol): Promise<string> {
  const pending = (await store.listPending()).map(({ ageSeconds: _age, ...rest }) => rest);
  return JSON.stringify({ pending, paired: await store.listPaired() });
}

/** After alice's request was approved and bob's was not: exactly alice is paired and listed, bob still pending. */
export async function assertOnlyAlicePaired(store: PairingProtocol): Promise<void> {
  assert.equal(await store.isPaired("alice", "telegram"), true);
  assert.equal(await store.isPaired("bob", "telegram"), false);
  assert.equal(await store.isPaired("alice", "discord"), false);
  const paired = await store.listPaired();
  assert.equal(paired.length, 1);
  assert.equal(paired[0]?.channelId, "alice");
  assert.equal(paired[0]?.channelType, "telegram");
  assert.equal(typeof paired[0]?.pairedAt, "number");
  assert.equal(typeof paired[0]?.label, "string");
  assert.deepEqual(
    (await store.listPending()).map((p) => p.channelId),
    ["bob"],
    "the approved request left listPending",
  );
}

/** Registers one case of a pairing suite: a rule, a name, and a body run against a fresh store. */
export type PairingCase = (
  rule: StoreRuleId,
  name: string,
  body: (store: PairingProtocol, context: SuiteContext) => MaybePromise<void>,
) => void;

/** The `check` function the pairing suites register their cases with (see ruleCase). */
export function pairingCases(factory: StoreFactory<PairingProtocol>, options: SuiteRunner & LevelOption): PairingCase {
  return (rule, name, body) => ruleCase(options, rule, name, () => withStore(factory, body));
}
