import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PairingLimitError } from "../src/pairing/errors.js";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import type { Stores } from "../src/stores/types.js";
import { testSchemas } from "./postgres-helpers.js";

const { available, nextUrl } = await testSchemas("c");

/** Two instances (separate pools) on one fresh schema, with the same secret and rules. */
async function twoInstances(rules: Record<string, number> = {}): Promise<[Stores, Stores]> {
  const url = nextUrl();
  const secret = randomBytes(32);
  return [
    await openPostgresStores(url, { secret, poolSize: 6, ...rules }),
    await openPostgresStores(url, { secret, poolSize: 6, ...rules }),
  ];
}

describe.runIf(available)("postgres store: rules hold under concurrency across instances", () => {
  it("the cap admits exactly N pending entries when many senders ask at once", async () => {
    const [a, b] = await twoInstances({ maxPendingPerChannelType: 5 });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).pairing.generateCode("telegram", `sender-${i}`)),
      );
      expect(results.filter((r) => r.status === "fulfilled").length).toBe(5);
      for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(PairingLimitError);
      expect((await a.pairing.listPending("telegram")).length).toBe(5);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("one live request per sender: concurrent asks through both instances all get the same code", async () => {
    const [a, b] = await twoInstances();
    try {
      const codes = await Promise.all(
        Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).pairing.generateCode("telegram", "alice")),
      );
      expect(new Set(codes).size).toBe(1);
      expect((await b.pairing.listPending()).length).toBe(1);
      expect((await a.pairing.audit({ type: "requested" })).events.length).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a revoke racing an approve of the same sender always ends revoked", async () => {
    const [a, b] = await twoInstances({ maxPendingPerChannelType: 100 });
    try {
      for (let round = 0; round < 20; round++) {
        const sender = `sender-${round}`;
        const code = await a.pairing.generateCode("telegram", sender);
        const [, revoked] = await Promise.all([
          a.pairing.approve("telegram", code),
          b.pairing.revoke(sender, "telegram"),
        ]);
        expect(revoked, `round ${round}`).toBe(true);
        expect(await a.pairing.isPaired(sender, "telegram"), `round ${round}`).toBe(false);
        expect(await b.pairing.pendingFor(sender, "telegram"), `round ${round}`).toBeNull();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a redeemer guessing concurrently is counted exactly and locked out once", async () => {
    const [a, b] = await twoInstances({ redeemFailureLimit: 5 });
    try {
      const guesses = Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? a : b).pairing.approve(
          "telegram",
          `ABCD-EF${"GHJKMNPQRSTUVWXYZ23456789"[i % 25]}${"ABC"[i % 3]}`,
          "mallory",
        ),
      );
      expect(await Promise.all(guesses)).toEqual(guesses.map(() => false));
      const failed = await a.pairing.audit({ type: "redeem-failed" });
      expect(failed.events.map((e) => e.detail.failures)).toEqual([1, 2, 3, 4, 5]);
      expect((await a.pairing.audit({ type: "locked-out" })).events.length).toBe(1);
      // Locked out: even a real invite is refused for mallory, while someone else redeems it.
      const invite = await a.pairing.generateCode("telegram");
      expect(await b.pairing.approve("telegram", invite, "mallory")).toBe(false);
      expect(await b.pairing.approve("telegram", invite, "bob")).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a request code presented by others is invalidated after exactly the per-code limit", async () => {
    const [a, b] = await twoInstances({ codeFailureLimit: 5 });
    try {
      const code = await a.pairing.generateCode("telegram", "alice");
      const attempts = Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).pairing.approve("telegram", code, `other-${i}`),
      );
      expect(await Promise.all(attempts)).toEqual(attempts.map(() => false));
      const expired = await a.pairing.audit({ type: "expired" });
      expect(expired.events.map((e) => e.detail)).toEqual([{ reason: "too many wrong redemptions" }]);
      expect(await a.pairing.approve("telegram", code)).toBe(false);
      expect(await a.pairing.pendingFor("alice", "telegram")).toBeNull();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
