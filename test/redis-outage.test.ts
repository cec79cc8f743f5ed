import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { StoreUnavailableError } from "../src/pairing/errors.js";
import { openRedisStores } from "../src/stores/redis/index.js";
import type { AuditEvent, Stores } from "../src/stores/types.js";
import { PrivateRedis, sparePort } from "./redis-support.js";

const TIMEOUT_MS = 500;

/** Waits until `probe` resolves (the store is back), failing after `ms`. */
async function recovered(probe: () => Promise<unknown>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await probe();
      return;
    } catch (error) {
      assert.ok(error instanceof StoreUnavailableError, `unexpected error while recovering: ${String(error)}`);
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function assertUnavailable(call: Promise<unknown>): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
    assert.equal(error.store, "redis");
    return true;
  });
}

describe("redis store outage: fail closed fast, recover without a restart", () => {
  let server: PrivateRedis;
  let stores: Stores;
  const problems: unknown[] = [];
  const onProblem = (error: unknown): void => {
    problems.push(error);
  };

  beforeAll(async () => {
    process.on("unhandledRejection", onProblem);
    process.on("uncaughtException", onProblem);
    server = await PrivateRedis.start();
    stores = await openRedisStores(server.url, { secret: randomBytes(32), timeoutMs: TIMEOUT_MS });
  });

  afterAll(async () => {
    await stores?.close();
    await server?.stop();
    process.off("unhandledRejection", onProblem);
    process.off("uncaughtException", onProblem);
  });

  it("rejects every call with StoreUnavailableError while Redis is down, then works again on the same objects", async () => {
    const { pairing, sessions } = stores;
    const events: AuditEvent[] = [];
    pairing.subscribe((event) => events.push(event));
    await pairing.approve("telegram", await pairing.generateCode("telegram", "alice"));
    await sessions.bind("s1", { userId: "alice", role: "user" });
    await pairing.health();

    await server.stop();
    const code = "ABCD-EFGH";
    const calls: Promise<unknown>[] = [
      pairing.isPaired("alice", "telegram"),
      pairing.generateCode("telegram", "bob"),
      pairing.approve("telegram", code),
      pairing.approve("telegram", code, "mallory"),
      pairing.listPaired(),
      pairing.listPending(),
      pairing.revoke("alice", "telegram"),
      pairing.deny("telegram", code),
      pairing.pendingFor("bob", "telegram"),
      pairing.audit(),
      pairing.health(),
      sessions.lookup("s1"),
      sessions.bind("s2", { userId: "bob", role: "user" }),
      sessions.unbind("s1"),
      sessions.health(),
    ];
    // every call gets its handler at once, so a rejection is never (even briefly) unhandled
    await Promise.all(calls.map(assertUnavailable));

    await server.start();
    await recovered(() => pairing.health());
    await sessions.health();
    // the server was started without persistence, so it is empty again: the store must simply work
    assert.equal(await pairing.isPaired("alice", "telegram"), false);
    const again = await pairing.generateCode("telegram", "bob", { firstMessage: "back" });
    assert.equal(await pairing.approve("telegram", again), true);
    assert.equal(await pairing.isPaired("bob", "telegram"), true);
    await sessions.bind("s3", { userId: "bob", role: "user" });
    assert.deepEqual(await sessions.lookup("s3"), { userId: "bob", role: "user" });
    const deadline = Date.now() + 10_000;
    while (!events.some((e) => e.type === "approved" && e.channelId === "bob")) {
      assert.ok(Date.now() < deadline, `the event feed did not resume: ${events.map((e) => e.type).join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(problems, [], "no unhandled rejection or uncaught exception");
  }, 60_000);

  it("a server that stops answering (paused) hits the deadline; data survives once it answers again", async () => {
    const { pairing } = stores;
    await pairing.approve("telegram", await pairing.generateCode("telegram", "carol"));
    server.pause();
    try {
      await assertUnavailable(pairing.isPaired("carol", "telegram"));
      await assertUnavailable(pairing.health());
    } finally {
      server.resume();
    }
    await recovered(() => pairing.health());
    assert.equal(await pairing.isPaired("carol", "telegram"), true);
    assert.deepEqual(problems, []);
  }, 60_000);

  it("opening a store whose Redis is not there fails with StoreUnavailableError instead of hanging", async () => {
    const port = await sparePort();
    await assertUnavailable(
      openRedisStores(`redis://127.0.0.1:${port}/0`, { timeoutMs: TIMEOUT_MS, secret: randomBytes(32) }),
    );
    assert.deepEqual(problems, []);
  }, 30_000);
});
