import assert from "node:assert/strict";
import type { ApprovalEvent, ApprovalStore, NewApproval } from "../stores/approvals.js";
import { createTestClock, type SuiteRunner } from "./runner.js";

/**
 * Two handles on ONE backing approval store (two connections, instances or processes' worth) that both read time
 * from `now`; a memory store may return the same object twice.
 */
export type ApprovalStorePairFactory = (now: () => number) => Promise<[ApprovalStore, ApprovalStore]>;

const TTL = 5 * 60_000;

const request = (id: string, overrides: Partial<NewApproval> = {}): NewApproval => ({
  id,
  requester: "token:agent-1",
  tool: "shell",
  arguments: { command: "rm -rf /tmp/x", list: [], nested: { n: 1.5 } },
  risk: "high",
  agent: "ops-bot",
  session: "s-1",
  context: { why: "cleanup" },
  ttlMs: TTL,
  ...overrides,
});

async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The conformance suite for approval stores: shared state, first decision wins, expiry, events across handles. */
export function describeApprovalStore(name: string, openPair: ApprovalStorePairFactory, runner: SuiteRunner): void {
  const { describe, it } = runner;
  describe(`${name}: approval store conformance`, () => {
    it("creates a pending request that the other handle reads, arguments intact; a repeat create changes nothing", async () => {
      const clock = createTestClock();
      const [a, b] = await openPair(clock.now);
      const first = await a.create(request("req-1"));
      assert.equal(first.created, true);
      assert.equal(first.record.status, "pending");
      assert.match(first.record.ref, /^[A-HJ-NP-Z2-9]{8}$/);
      assert.equal(first.record.expiresAt, clock.now() + TTL);
      const read = await b.get("req-1");
      assert.deepEqual(read, first.record);
      assert.deepEqual(read?.arguments, { command: "rm -rf /tmp/x", list: [], nested: { n: 1.5 } });
      assert.deepEqual(await b.getByRef(first.record.ref), first.record);
      const again = await b.create(request("req-1", { tool: "other" }));
      assert.equal(again.created, false);
      assert.equal(again.record.tool, "shell");
      assert.equal(await a.get("nope"), null);
      assert.equal(await a.getByRef("AAAAAAAA"), null);
      assert.deepEqual(
        (await b.listPending()).map((r) => r.id),
        ["req-1"],
      );
    });

    it("of many racing decisions from both handles exactly one wins, and every loser reads the winner", async () => {
      const clock = createTestClock();
      const [a, b] = await openPair(clock.now);
      await a.create(request("race"));
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? a : b).decide("race", {
            outcome: i % 3 ? "approved" : "denied",
            approver: `owner-${i}`,
            reason: `by ${i}`,
          }),
        ),
      );
      const winners = results.filter((r) => r.won);
      assert.equal(winners.length, 1);
      const winner = winners[0]!.record!;
      for (const result of results) {
        assert.equal(result.record?.status, winner.status);
        assert.equal(result.record?.approver, winner.approver);
      }
      assert.deepEqual(await a.get("race"), winner);
      assert.deepEqual(await b.listPending(), []);
      assert.deepEqual(await a.decide("missing", { outcome: "approved", approver: "x", reason: "" }), {
        won: false,
        record: null,
      });
    });

    it("a request past its expiry reads as expired (denied with a reason), cannot be approved, and its expiry is recorded once", async () => {
      const clock = createTestClock();
      const [a, b] = await openPair(clock.now);
      await a.create(request("late", { ttlMs: 1_000 }));
      assert.equal((await b.decide("late", { outcome: "expired", approver: "system", reason: "early" })).won, false);
      clock.advance(1_000);
      const read = await b.get("late");
      assert.equal(read?.status, "expired");
      assert.equal(read?.approver, "system");
      assert.match(String(read?.reason), /expired/);
      assert.deepEqual(await a.listPending(), []);
      const approve = await a.decide("late", { outcome: "approved", approver: "owner", reason: "" });
      assert.equal(approve.won, false);
      assert.equal(approve.record?.status, "expired");
      const expire = await Promise.all(
        [a, b].map((s) =>
          s.decide("late", { outcome: "expired", approver: "system", reason: "expired: nobody decided in time" }),
        ),
      );
      assert.equal(expire.filter((r) => r.won).length, 1);
    });

    it("the first claim of (id, holder) wins on either handle", async () => {
      const clock = createTestClock();
      const [a, b] = await openPair(clock.now);
      await a.create(request("claimed"));
      const claims = await Promise.all([
        a.claim("claimed", "telegram"),
        b.claim("claimed", "telegram"),
        a.claim("claimed", "telegram"),
      ]);
      assert.equal(claims.filter(Boolean).length, 1);
      assert.equal(await b.claim("claimed", "slack"), true);
    });

    it("both handles hear of new requests and of the one decision, whichever handle made it", async () => {
      const clock = createTestClock();
      const [a, b] = await openPair(clock.now);
      const heardA: ApprovalEvent[] = [];
      const heardB: ApprovalEvent[] = [];
      const offA = a.subscribe((event) => heardA.push(event));
      const offB = b.subscribe((event) => heardB.push(event));
      try {
        // Subscriptions that start listening asynchronously (LISTEN, XREAD) are given a moment to be in place.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await a.create(request("heard"));
        await Promise.all(
          [a, b].map((s, i) => s.decide("heard", { outcome: "denied", approver: `o${i}`, reason: "no" })),
        );
        const decided = (list: ApprovalEvent[]): ApprovalEvent[] =>
          list.filter((e) => e.id === "heard" && e.type === "decided");
        await until(() => decided(heardA).length === 1 && decided(heardB).length === 1, "the decision on both handles");
        await until(
          () => heardB.some((e) => e.id === "heard" && e.type === "requested"),
          "the request on the other handle",
        );
        assert.equal(decided(heardA)[0]!.status, "denied");
        assert.deepEqual(decided(heardA)[0], decided(heardB)[0]);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(decided(heardB).length, 1, "a decision is announced once");
      } finally {
        offA();
        offB();
      }
    });
  });
}
