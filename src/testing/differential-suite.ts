/**
 * Differential (parity) suite: random sequences of pairing operations run against the memory reference store and the
 * store under test side by side, with the same clock, rules and secret. Every answer, error (name and message), listing
 * and audit page must be the same. Codes are random per store, so both sides name them by the order they were handed
 * out; audit ids are opaque per backend (counters, stream ids), so both sides name them by position in their own log.
 *
 * fast-check is loaded only when the test runs, so importing `gatehouse/testing` never needs it installed.
 */
import assert from "node:assert/strict";
import type { Arbitrary } from "fast-check";
import { MemoryPairingStore } from "../stores/memory/pairing.js";
import type { AuditEventType, AuditPage, PairingRules, PairingStore } from "../stores/types.js";
import { DEFAULT_PAIRING_RULES } from "../stores/types.js";
import { withStore } from "./fixtures.js";
import type { StoreFactory, SuiteContext, SuiteRunner } from "./runner.js";

type FastCheck = typeof import("fast-check");

export interface DifferentialSuiteOptions extends SuiteRunner {
  /** Random sequences per backend. Default 50 (a few seconds for a local store); the GATEHOUSE_PARITY_RUNS environment variable wins. */
  numRuns?: number;
}

const MINUTE = 60_000;
const DEFAULT_RUNS = 50;

/** Small limits so caps, lockouts, cooldowns and code invalidation all happen within a short sequence. */
export const DIFFERENTIAL_RULES: PairingRules = {
  ...DEFAULT_PAIRING_RULES,
  maxPendingPerChannelType: 3,
  redeemFailureLimit: 3,
  codeFailureLimit: 2,
  redeemFailureWindowMs: 20 * MINUTE,
  lockoutMs: 15 * MINUTE,
  denyCooldownMs: 30 * MINUTE,
};

/** A code: one of the last few this store handed out (`back` steps from the newest), or a fixed text. */
type CodeRef = { back: number } | { literal: string };

type Command =
  | {
      op: "generate";
      channelType: string;
      sender: string | undefined;
      userName: string;
      firstMessage: string | undefined;
    }
  | {
      op: "approve";
      channelType: string;
      code: CodeRef;
      userId: string;
      userName: string;
      inviteOnly: boolean;
      approvedBy: string | undefined;
    }
  | { op: "deny"; channelType: string; code: CodeRef; by: string | undefined }
  | { op: "revoke"; channelType: string; sender: string; by: string | undefined }
  | { op: "isPaired" | "pendingFor"; channelType: string; sender: string }
  | { op: "isPairedMany"; senders: { channelType: string; channelId: string }[] }
  | { op: "listPending"; channelType: string | undefined }
  | { op: "listPaired"; channelType: string | undefined }
  | { op: "advance"; ms: number }
  | {
      op: "audit";
      limit: number;
      /** "After the n-th event" of this store's own log (0: from the start; past the end: after the last). */
      after: number | undefined;
      type: AuditEventType | undefined;
      channelType: string | undefined;
    };

function commands(fc: FastCheck): Arbitrary<Command[]> {
  const optional = <T>(arbitrary: Arbitrary<T>): Arbitrary<T | undefined> => fc.option(arbitrary, { nil: undefined });
  // owner.telegram: store-kept owners ride on pairings of an owner scope (src/pairing/owner-scope.ts).
  const channelType = fc.constantFrom("telegram", "discord", "owner.telegram");
  const sender = fc.constantFrom("alice", "bob", "carol", "carol:1");
  const actor = optional(fc.constantFrom("owner-1", "admin"));
  const code: Arbitrary<CodeRef> = fc.oneof(
    { weight: 5, arbitrary: fc.nat(3).map((back) => ({ back })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("ABCD-EFGH", "abcd efgh", "not a code", "bad", "").map((literal) => ({ literal })),
    },
  );
  const command: Arbitrary<Command> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("generate" as const),
        channelType,
        sender: optional(sender),
        userName: fc.constantFrom("", "Al"),
        firstMessage: optional(fc.constantFrom("hi", "x".repeat(3000))),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("approve" as const),
        channelType,
        code,
        userId: fc.constantFrom("", "", "alice", "bob", "mallory"),
        userName: fc.constantFrom("", "Bob"),
        inviteOnly: fc.boolean(),
        approvedBy: actor,
      }),
    },
    fc.record({ op: fc.constant("deny" as const), channelType, code, by: actor }),
    fc.record({ op: fc.constant("revoke" as const), channelType, sender, by: actor }),
    fc.record({ op: fc.constantFrom("isPaired" as const, "pendingFor" as const), channelType, sender }),
    fc.record({
      op: fc.constant("isPairedMany" as const),
      senders: fc.array(fc.record({ channelType, channelId: sender }), { maxLength: 5 }),
    }),
    fc.record({ op: fc.constant("listPending" as const), channelType: optional(channelType) }),
    fc.record({ op: fc.constant("listPaired" as const), channelType: optional(channelType) }),
    fc.record({
      op: fc.constant("advance" as const),
      ms: fc.constantFrom(MINUTE, 9 * MINUTE, 11 * MINUTE, 31 * MINUTE, 61 * MINUTE),
    }),
    fc.record({
      op: fc.constant("audit" as const),
      limit: fc.integer({ min: 1, max: 5 }),
      after: optional(fc.nat(30)),
      type: optional(
        fc.constantFrom<AuditEventType>("requested", "approved", "denied", "expired", "redeem-failed", "locked-out"),
      ),
      channelType: optional(channelType),
    }),
  );
  // minLength 1 so a failure shrinks to the few steps that matter.
  return fc.array(command, { minLength: 1, maxLength: 60, size: "max" });
}

/** One store under test, with the codes it handed out so "code #n" means the same entry on both sides. */
class Side {
  private readonly codes: string[] = [];
  constructor(readonly store: PairingStore) {}

  private code(ref: CodeRef): string {
    if ("literal" in ref) return ref.literal;
    return this.codes[this.codes.length - 1 - (ref.back % Math.max(this.codes.length, 1))] ?? "ABCD-EFGH";
  }

  /** A plain JSON copy with every code this store handed out replaced by its number. */
  plain(value: unknown): unknown {
    const replacer = (_key: string, v: unknown): unknown =>
      typeof v === "string" && this.codes.includes(v) ? `code#${this.codes.indexOf(v)}` : v;
    return JSON.parse(JSON.stringify(value ?? null, replacer)) as unknown;
  }

  private async auditIds(): Promise<string[]> {
    return (await this.store.audit({ limit: 1000 })).events.map((e) => e.id);
  }

  /** An audit page, then the page its `next` cursor leads to, with ids as 1-based positions in this store's log. */
  private async auditPages(cmd: Extract<Command, { op: "audit" }>): Promise<unknown> {
    const ids = await this.auditIds();
    const position = (id: string | null): string | null => (id === null ? null : String(ids.indexOf(id) + 1));
    const after =
      cmd.after === undefined ? undefined : cmd.after === 0 ? "0" : (ids[Math.min(cmd.after, ids.length) - 1] ?? "0");
    const query = { limit: cmd.limit, type: cmd.type, channelType: cmd.channelType };
    const shown = (page: AuditPage) => ({
      events: page.events.map((e) => ({ ...e, id: position(e.id) })),
      next: position(page.next),
    });
    const first = await this.store.audit({ ...query, after });
    const second = first.next === null ? null : await this.store.audit({ ...query, after: first.next });
    return [shown(first), second && shown(second)];
  }

  /** The whole log, ids as positions, read once in one page and once by following `next` two events at a time. */
  async fullLog(): Promise<unknown> {
    const whole = (await this.store.audit({ limit: 1000 })).events;
    const ids = whole.map((e) => e.id);
    const walked = [];
    for (
      let page = await this.store.audit({ limit: 2 });
      ;
      page = await this.store.audit({ limit: 2, after: page.next })
    ) {
      walked.push(...page.events);
      if (page.next === null || walked.length > whole.length) break;
    }
    const positions = (events: typeof whole) => events.map((e) => ({ ...e, id: ids.indexOf(e.id) + 1 }));
    return this.plain({ whole: positions(whole), walked: positions(walked) });
  }

  async run(cmd: Command): Promise<unknown> {
    const s = this.store;
    try {
      switch (cmd.op) {
        case "generate": {
          const code = await s.generateCode(cmd.channelType, cmd.sender, {
            userName: cmd.userName,
            firstMessage: cmd.firstMessage,
          });
          if (!this.codes.includes(code)) this.codes.push(code);
          return this.plain(code);
        }
        case "approve":
          return await s.approve(cmd.channelType, this.code(cmd.code), cmd.userId, cmd.userName, {
            inviteOnly: cmd.inviteOnly,
            approvedBy: cmd.approvedBy,
          });
        case "deny":
          return await s.deny(cmd.channelType, this.code(cmd.code), { deniedBy: cmd.by });
        case "revoke":
          return await s.revoke(cmd.sender, cmd.channelType, { revokedBy: cmd.by });
        case "isPaired":
          return await s.isPaired(cmd.sender, cmd.channelType);
        case "isPairedMany":
          return await s.isPairedMany(cmd.senders);
        case "pendingFor":
          return this.plain(await s.pendingFor(cmd.sender, cmd.channelType));
        case "listPending":
          return this.plain(await s.listPending(cmd.channelType));
        case "listPaired":
          return this.plain(await s.listPaired(cmd.channelType));
        case "advance":
          return null;
        case "audit":
          return this.plain(await this.auditPages(cmd));
      }
    } catch (error) {
      return error instanceof Error
        ? { error: error.name, message: error.message }
        : { error: typeof error, message: String(error) };
    }
  }
}

/** deepStrictEqual, with the step (and the command) that diverged in front of the diff. */
function assertSame(actual: unknown, expected: unknown, where: string): void {
  try {
    assert.deepStrictEqual(actual, expected);
  } catch (error) {
    if (error instanceof Error) error.message = `${where}\n${error.message}`;
    throw error;
  }
}

function runCount(options: DifferentialSuiteOptions): number {
  const fromEnv = process.env.GATEHOUSE_PARITY_RUNS;
  if (fromEnv !== undefined && fromEnv !== "") {
    const runs = Number(fromEnv);
    if (!Number.isInteger(runs) || runs < 1)
      throw new TypeError(`GATEHOUSE_PARITY_RUNS must be a positive integer, got ${JSON.stringify(fromEnv)}`);
    return runs;
  }
  const runs = options.numRuns ?? DEFAULT_RUNS;
  if (!Number.isInteger(runs) || runs < 1)
    throw new TypeError(`numRuns must be a positive integer, got ${String(runs)}`);
  return runs;
}

async function loadFastCheck(): Promise<FastCheck> {
  try {
    return await import("fast-check");
  } catch (error) {
    throw new Error("the differential suite needs the fast-check package: npm install --save-dev fast-check", {
      cause: error,
    });
  }
}

/** One random sequence: a fresh store from the factory and a fresh memory reference, compared after every step. */
async function compareOnce(factory: StoreFactory<PairingStore>, steps: Command[]): Promise<void> {
  const withRules = (context: SuiteContext) => factory({ ...context, rules: { ...DIFFERENTIAL_RULES } });
  await withStore(withRules, async (store, { clock, secret }) => {
    const reference = new Side(new MemoryPairingStore({ ...DIFFERENTIAL_RULES, secret, now: clock.now }));
    const tested = new Side(store);
    try {
      for (const [index, step] of steps.entries()) {
        const expected = await reference.run(step);
        const actual = await tested.run(step);
        assertSame(
          actual,
          expected,
          `step ${index}: ${JSON.stringify(step)} (actual: store under test, expected: memory reference)`,
        );
        if (step.op === "advance") clock.advance(step.ms);
      }
      assertSame(await tested.fullLog(), await reference.fullLog(), "audit log after the last step");
    } finally {
      await reference.store.close();
    }
  });
}

/**
 * Runs random operation sequences against the memory reference and a store from `factory` (built with ctx's clock,
 * rules and secret, as for describePairingStore); any difference in answers, errors, listings or audit pages fails,
 * with fast-check's shrunk sequence in the message.
 */
export function describeDifferentialPairingStore(
  name: string,
  factory: StoreFactory<PairingStore>,
  options: DifferentialSuiteOptions,
): void {
  const { describe, it } = options;
  const runs = runCount(options);
  describe(`${name}: behaves exactly like the memory reference store`, () => {
    it(
      `gives the same answers, errors, listings and audit pages for ${runs} random operation sequences`,
      async () => {
        const fc = await loadFastCheck();
        await fc.assert(
          fc.asyncProperty(commands(fc), (steps) => compareOnce(factory, steps)),
          { numRuns: runs },
        );
      },
      60_000 + runs * 2_000,
    );
  });
}
