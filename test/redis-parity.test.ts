/**
 * Differential test: random operation sequences against the memory reference store and the Redis store, same clock
 * and secret; every answer, error, listing and audit page must match. Audit ids differ by design (counters vs stream
 * ids), so both sides' ids are compared as positions in their own full log.
 */
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryPairingStore } from "../src/stores/memory/index.js";
import { openRedisStores } from "../src/stores/redis/index.js";
import type { AuditEventType, AuditPage, PairingRules, PairingStore } from "../src/stores/types.js";
import { DEFAULT_PAIRING_RULES } from "../src/stores/types.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const available = await requireRedis();
const run = uniquePrefix();
let namespaces = 0;

const MINUTE = 60_000;
const RULES: PairingRules = {
  ...DEFAULT_PAIRING_RULES,
  maxPendingPerChannelType: 3,
  redeemFailureLimit: 3,
  codeFailureLimit: 2,
  redeemFailureWindowMs: 20 * MINUTE,
  lockoutMs: 15 * MINUTE,
  denyCooldownMs: 30 * MINUTE,
};

const type = fc.constantFrom("telegram", "discord");
const who = fc.constantFrom("alice", "bob", "carol:1");
const code = fc.oneof(
  { weight: 5, arbitrary: fc.nat(3).map((back) => ({ back })) },
  { weight: 1, arbitrary: fc.constantFrom("ABCD-EFGH", "bad", "").map((literal) => ({ literal })) },
);
const op = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constant("generate" as const), type, fc.option(who, { nil: undefined }), fc.constantFrom("", "Al")) },
  { weight: 4, arbitrary: fc.tuple(fc.constant("approve" as const), type, code, fc.constantFrom("", "", "alice", "mallory"), fc.boolean()) },
  fc.tuple(fc.constant("deny" as const), type, code),
  fc.tuple(fc.constant("revoke" as const), type, who),
  fc.tuple(fc.constant("isPaired" as const), type, who),
  fc.tuple(fc.constant("pendingFor" as const), type, who),
  fc.tuple(fc.constant("listPending" as const), fc.option(type, { nil: undefined })),
  fc.tuple(fc.constant("listPaired" as const)),
  fc.tuple(fc.constant("advance" as const), fc.constantFrom(MINUTE, 11 * MINUTE, 31 * MINUTE, 61 * MINUTE)),
  fc.tuple(
    fc.constant("audit" as const),
    fc.integer({ min: 1, max: 4 }),
    fc.option(fc.nat(25), { nil: undefined }),
    fc.option(fc.constantFrom<AuditEventType>("requested", "approved", "expired", "redeem-failed"), { nil: undefined }),
  ),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** Runs operations on one store, naming codes by the order they were handed out and audit ids by log position. */
async function perform(store: PairingStore, codes: string[], step: Op): Promise<unknown> {
  const pick = (ref: { back: number } | { literal: string }): string =>
    "literal" in ref ? ref.literal : (codes[codes.length - 1 - (ref.back % Math.max(codes.length, 1))] ?? "ABCD-EFGH");
  const plain = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === "string" && codes.includes(v) ? `#${codes.indexOf(v)}` : v)));
  try {
    switch (step[0]) {
      case "generate": {
        const issued = await store.generateCode(step[1], step[2], { userName: step[3] });
        if (!codes.includes(issued)) codes.push(issued);
        return plain(issued);
      }
      case "approve":
        return await store.approve(step[1], pick(step[2]), step[3], "", { inviteOnly: step[4] });
      case "deny":
        return await store.deny(step[1], pick(step[2]));
      case "revoke":
        return await store.revoke(step[2], step[1]);
      case "isPaired":
        return await store.isPaired(step[2], step[1]);
      case "pendingFor":
        return plain(await store.pendingFor(step[2], step[1]));
      case "listPending":
        return plain(await store.listPending(step[1]));
      case "listPaired":
        return await store.listPaired();
      case "advance":
        return null;
      case "audit": {
        const ids = (await store.audit({ limit: 1000 })).events.map((e) => e.id);
        const position = step[2];
        // "after the n-th event" in this store's own id space
        const after = position === undefined ? undefined : position === 0 ? "0" : (ids[Math.min(position, ids.length) - 1] ?? "0");
        const page: AuditPage = await store.audit({ limit: step[1], after, type: step[3] });
        const ordinal = (id: string | null): string | null => (id === null ? null : String(ids.indexOf(id) + 1));
        return plain({ events: page.events.map((e) => ({ ...e, id: ordinal(e.id) })), next: ordinal(page.next) });
      }
    }
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

(available ? describe : describe.skip)("redis store behaves exactly like the memory reference", () => {
  afterAll(async () => {
    await deleteKeys(`${run}-`);
  });

  it("gives the same answers, errors, listings and audit log for random operation sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 50, size: "max" }), async (steps) => {
        let now = Date.UTC(2030, 0, 1);
        const clock = (): number => now;
        const secret = randomBytes(32);
        const memory = new MemoryPairingStore({ ...RULES, secret, now: clock });
        const stores = await openRedisStores(`${REDIS_URL}?prefix=${run}-${namespaces++}`, { ...RULES, secret, now: clock });
        const memoryCodes: string[] = [];
        const redisCodes: string[] = [];
        try {
          for (const [index, step] of steps.entries()) {
            const expected = await perform(memory, memoryCodes, step);
            const actual = await perform(stores.pairing, redisCodes, step);
            expect(actual, `step ${index}: ${JSON.stringify(step)}`).toEqual(expected);
            if (step[0] === "advance") now += step[1];
          }
          const log = async (store: PairingStore) => (await store.audit({ limit: 1000 })).events.map(({ id: _id, ...e }) => e);
          expect(await log(stores.pairing)).toEqual(await log(memory));
        } finally {
          await stores.close();
          await memory.close();
        }
      }),
      { numRuns: Number(process.env.PARITY_RUNS ?? 100) },
    );
  }, 120_000);
});
