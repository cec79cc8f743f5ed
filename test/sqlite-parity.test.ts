/**
 * Differential test: random sequences of pairing operations run against the memory reference store and the SQLite
 * store side by side, with the same clock; every answer, error, listing and audit page must be the same.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryPairingStore } from "../src/stores/memory/index.js";
import { openSqliteStores } from "../src/stores/sqlite/index.js";
import type { AuditEventType, PairingRules, PairingStore } from "../src/stores/types.js";
import { DEFAULT_PAIRING_RULES } from "../src/stores/types.js";

const root = mkdtempSync(join(tmpdir(), "gh-sqlite-parity-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let files = 0;

const MINUTE = 60_000;
/** Small limits so caps, lockouts and code invalidation happen within a short sequence. */
const RULES: PairingRules = {
  ...DEFAULT_PAIRING_RULES,
  maxPendingPerChannelType: 3,
  redeemFailureLimit: 3,
  codeFailureLimit: 2,
  redeemFailureWindowMs: 20 * MINUTE,
  lockoutMs: 15 * MINUTE,
  denyCooldownMs: 30 * MINUTE,
};

const channelType = fc.constantFrom("telegram", "discord");
const sender = fc.constantFrom("alice", "bob", "carol");
const userId = fc.constantFrom("", "", "alice", "bob", "mallory");
/** A code: one of the last few codes this store handed out, or something else entirely. */
const codeRef = fc.oneof(
  { weight: 5, arbitrary: fc.nat(3).map((index) => ({ index })) },
  { weight: 1, arbitrary: fc.constantFrom("ABCD-EFGH", "not a code", "", "abcd efgh").map((text) => ({ text })) },
);

const command = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("generate" as const),
      channelType,
      sender: fc.option(sender, { nil: undefined }),
      userName: fc.constantFrom("", "Al"),
      firstMessage: fc.option(fc.constantFrom("hi", "x".repeat(3000)), { nil: undefined }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("approve" as const),
      channelType,
      code: codeRef,
      userId,
      userName: fc.constantFrom("", "Bob"),
      inviteOnly: fc.boolean(),
      approvedBy: fc.option(fc.constantFrom("owner-1", "admin"), { nil: undefined }),
    }),
  },
  fc.record({ op: fc.constant("deny" as const), channelType, code: codeRef }),
  fc.record({ op: fc.constant("revoke" as const), channelType, sender }),
  fc.record({ op: fc.constant("isPaired" as const), channelType, sender }),
  fc.record({ op: fc.constant("pendingFor" as const), channelType, sender }),
  fc.record({ op: fc.constant("listPending" as const), channelType: fc.option(channelType, { nil: undefined }) }),
  fc.record({ op: fc.constant("listPaired" as const) }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.constantFrom(MINUTE, 9 * MINUTE, 11 * MINUTE, 31 * MINUTE, 61 * MINUTE) }),
  fc.record({
    op: fc.constant("audit" as const),
    limit: fc.integer({ min: 1, max: 5 }),
    after: fc.option(fc.nat(30).map(String), { nil: undefined }),
    type: fc.option(fc.constantFrom<AuditEventType>("requested", "approved", "expired", "redeem-failed"), { nil: undefined }),
    channelType: fc.option(channelType, { nil: undefined }),
  }),
);
type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

/** One store under test, with the codes it handed out (so "code #n" means the same entry in both stores). */
class Side {
  readonly codes: string[] = [];
  constructor(readonly store: PairingStore) {}

  codeText(ref: { index: number } | { text: string }): string {
    if ("text" in ref) return ref.text;
    const count = this.codes.length;
    return count === 0 ? "ABCD-EFGH" : this.codes[count - 1 - (ref.index % count)]!;
  }

  /** Replaces every code this store handed out by its number, so both sides' answers compare equal. */
  anonymise(value: unknown): unknown {
    return JSON.parse(
      JSON.stringify(value ?? null, (_key, v: unknown) =>
        typeof v === "string" && this.codes.includes(v) ? `code#${this.codes.indexOf(v)}` : v,
      ),
    );
  }

  async run(cmd: Command, advance: (ms: number) => void): Promise<unknown> {
    const s = this.store;
    try {
      switch (cmd.op) {
        case "generate": {
          const code = await s.generateCode(cmd.channelType, cmd.sender, { userName: cmd.userName, firstMessage: cmd.firstMessage });
          if (!this.codes.includes(code)) this.codes.push(code);
          return this.anonymise(code);
        }
        case "approve":
          return await s.approve(cmd.channelType, this.codeText(cmd.code), cmd.userId, cmd.userName, {
            inviteOnly: cmd.inviteOnly,
            approvedBy: cmd.approvedBy,
          });
        case "deny":
          return await s.deny(cmd.channelType, this.codeText(cmd.code));
        case "revoke":
          return await s.revoke(cmd.sender, cmd.channelType);
        case "isPaired":
          return await s.isPaired(cmd.sender, cmd.channelType);
        case "pendingFor":
          return this.anonymise(await s.pendingFor(cmd.sender, cmd.channelType));
        case "listPending":
          return this.anonymise(await s.listPending(cmd.channelType));
        case "listPaired":
          return await s.listPaired();
        case "advance":
          advance(cmd.ms);
          return null;
        case "audit":
          return await s.audit({ limit: cmd.limit, after: cmd.after, type: cmd.type, channelType: cmd.channelType });
      }
    } catch (error) {
      return { error: (error as Error).name, message: (error as Error).message };
    }
  }
}

describe("sqlite store behaves exactly like the memory reference", () => {
  it("gives the same answers, errors, listings and audit log for random operation sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 60, size: "max" }), async (commands) => {
        let now = Date.UTC(2030, 0, 1);
        const clock = () => now;
        const secret = randomBytes(32);
        const memory = new Side(new MemoryPairingStore({ ...RULES, secret, now: clock }));
        const stores = await openSqliteStores(join(root, `p-${++files}.db`), { ...RULES, secret, now: clock });
        const sqlite = new Side(stores.pairing);
        try {
          for (const [step, cmd] of commands.entries()) {
            const expected = await memory.run(cmd, () => undefined);
            const actual = await sqlite.run(cmd, (ms) => {
              now += ms;
            });
            expect(actual, `step ${step}: ${JSON.stringify(cmd)}`).toEqual(expected);
          }
          const fullLog = async (side: Side) => side.anonymise(await side.store.audit({ limit: 1000 }));
          expect(await fullLog(sqlite)).toEqual(await fullLog(memory));
        } finally {
          await stores.close();
          await memory.store.close();
        }
      }),
      // PARITY_RUNS=3000 for a longer hunt by hand.
      { numRuns: Number(process.env.PARITY_RUNS ?? 150) },
    );
  }, 120_000);
});
