import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterAll, describe, it } from "vitest";
import { openRedisStores } from "../src/stores/redis/index.js";
import type { AuditEvent, Stores } from "../src/stores/types.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";
import { until } from "./support/until.js";

const available = await requireRedis();
const prefix = uniquePrefix();

(available ? describe : describe.skip)("redis store events across instances", () => {
  const secret = randomBytes(32);
  const open = (): Promise<Stores> => openRedisStores(`${REDIS_URL}?prefix=${prefix}`, { secret });

  afterAll(async () => {
    await deleteKeys(prefix);
  });

  it("an approval made through one instance reaches subscribers of another, with its first message", async () => {
    const a = await open();
    const b = await open();
    try {
      const seenByA: AuditEvent[] = [];
      // the subscription starts at the stream's tail as read on a's own connection, so a's next write is included
      const unsubscribe = a.pairing.subscribe((event) => seenByA.push(event));
      const code = await a.pairing.generateCode("telegram", "alice", { userName: "Alice", firstMessage: "hello" });
      assert.equal(await b.pairing.isPaired("alice", "telegram"), false);
      assert.equal(await b.pairing.approve("telegram", code, "", "", { approvedBy: "owner-b" }), true);
      assert.equal(await a.pairing.isPaired("alice", "telegram"), true, "a sees b's approval at once");
      await until(() => seenByA.some((e) => e.type === "approved"), "the approved event on a", 5_000);
      const approved = seenByA.find((e) => e.type === "approved");
      assert.equal(approved?.actor, "owner-b");
      assert.equal(approved?.channelId, "alice");
      assert.equal(approved?.detail.firstMessage, "hello");
      assert.deepEqual(
        seenByA.map((e) => e.type),
        ["requested", "approved"],
        "each event once, in order, nothing from before the subscription",
      );
      unsubscribe();
      const b1 = await b.pairing.audit({ type: "approved" });
      assert.equal(b1.events[0]?.id, approved?.id, "the audit log and the feed share ids");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a revoke on one instance takes effect on the other at once and is announced", async () => {
    const a = await open();
    const b = await open();
    try {
      const seenByB: AuditEvent[] = [];
      b.pairing.subscribe((event) => seenByB.push(event));
      await b.pairing.health(); // ordered after the subscription's start on b's connection: a's writes come later
      await a.pairing.approve("discord", await a.pairing.generateCode("discord", "bob"));
      assert.equal(await b.pairing.isPaired("bob", "discord"), true);
      assert.equal(await b.pairing.revoke("bob", "discord", { revokedBy: "admin" }), true);
      assert.equal(await a.pairing.isPaired("bob", "discord"), false);
      await until(() => seenByB.some((e) => e.type === "revoked"), "the revoked event", 5_000);
      assert.equal(seenByB.find((e) => e.type === "revoked")?.actor, "admin");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("close stops the feed: no listener runs after close and nothing keeps the process alive", async () => {
    const a = await open();
    const b = await open();
    const seen: AuditEvent[] = [];
    a.pairing.subscribe((event) => seen.push(event));
    await a.pairing.health();
    await a.close();
    await b.pairing.generateCode("telegram", "carol");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(seen, []);
    await assert.rejects(a.pairing.isPaired("carol", "telegram"), /closed/);
    await b.close();
  });
});
