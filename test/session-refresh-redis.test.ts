import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { afterAll, describe, it } from "vitest";
import { MAX_SESSION_REFRESH_INTERVAL_MS } from "../src/stores/session-defaults.js";
import { openRedisStores } from "../src/stores/redis/index.js";
import { createTestClock } from "../src/testing/runner.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const available = await requireRedis();
const run = uniquePrefix();
let next = 0;
afterAll(async () => {
  if (available) await deleteKeys(run);
});

const alice = { userId: "alice", role: "user" };
const TTL = 30 * 60_000; // refresh interval: min(60 s, TTL / 10) = 60 s

async function withSessions(
  body: (ctx: {
    clock: ReturnType<typeof createTestClock>;
    sessions: Awaited<ReturnType<typeof openRedisStores>>["sessions"];
    lastSeen: (id: string) => Promise<string | null>;
    exists: (id: string) => Promise<boolean>;
  }) => Promise<void>,
): Promise<void> {
  const prefix = `${run}-${next++}:`;
  const clock = createTestClock();
  const stores = await openRedisStores(`${REDIS_URL}?prefix=${prefix}`, {
    now: clock.now,
    secret: randomBytes(32),
    sessionIdleTtlMs: TTL,
  });
  const client = createClient({ url: REDIS_URL });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await body({
      clock,
      sessions: stores.sessions,
      lastSeen: async (id) => (await client.hGet(`${prefix}session:${id}`, "lastSeen")) ?? null,
      exists: async (id) => (await client.exists(`${prefix}session:${id}`)) === 1,
    });
  } finally {
    await client.close();
    await stores.close();
  }
}

(available ? describe : describe.skip)(
  "redis session lookup writes lastSeen only when it is older than the refresh interval",
  () => {
    it("a lookup right after bind, and any lookup inside the interval, writes nothing", () =>
      withSessions(async ({ clock, sessions, lastSeen }) => {
        await sessions.bind("s1", alice);
        const boundAt = String(clock.now());
        assert.equal(await lastSeen("s1"), boundAt);
        for (let i = 0; i < 5; i++) {
          assert.deepEqual(await sessions.lookup("s1"), alice);
          clock.advance(Math.floor((MAX_SESSION_REFRESH_INTERVAL_MS - 1) / 5));
        }
        assert.equal(await lastSeen("s1"), boundAt, "a lookup inside the refresh interval wrote lastSeen");

        clock.advance(MAX_SESSION_REFRESH_INTERVAL_MS);
        assert.deepEqual(await sessions.lookup("s1"), alice);
        assert.equal(await lastSeen("s1"), String(clock.now()));
      }));

    it("an idle-expired session is refused and deleted by the lookup that finds it", () =>
      withSessions(async ({ clock, sessions, exists }) => {
        await sessions.bind("s1", alice);
        clock.advance(TTL);
        assert.equal(await sessions.lookup("s1"), null);
        assert.equal(await exists("s1"), false);
      }));

    it("a clock moved back rewrites lastSeen, as the memory store does", () =>
      withSessions(async ({ clock, sessions, lastSeen }) => {
        await sessions.bind("s1", alice);
        clock.advance(-5000);
        assert.deepEqual(await sessions.lookup("s1"), alice);
        assert.equal(await lastSeen("s1"), String(clock.now()));
      }));
  },
);
