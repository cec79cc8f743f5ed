import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, it } from "vitest";
import { MAX_SESSION_REFRESH_INTERVAL_MS } from "../src/stores/session-defaults.js";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import { createTestClock } from "../src/testing/runner.js";
import { POSTGRES_URL, testSchemas, urlWithSchema } from "./postgres-helpers.js";

const { available, next: freshSchema } = await testSchemas("refresh_");

const alice = { userId: "alice", role: "user" };
const TTL = 30 * 60_000; // refresh interval: min(60 s, TTL / 10) = 60 s

/**
 * The row's xmin is the id of the transaction that last wrote it: unchanged xmin means the lookup wrote nothing (no
 * transaction id assigned, no commit record to flush).
 */
async function withSessions(
  body: (ctx: {
    clock: ReturnType<typeof createTestClock>;
    sessions: Awaited<ReturnType<typeof openPostgresStores>>["sessions"];
    row: (id: string) => Promise<{ xmin: string; lastSeen: number } | undefined>;
  }) => Promise<void>,
): Promise<void> {
  const schema = freshSchema();
  const clock = createTestClock();
  const stores = await openPostgresStores(urlWithSchema(schema), {
    now: clock.now,
    secret: randomBytes(32),
    sessionIdleTtlMs: TTL,
    poolSize: 2,
  });
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on("error", () => undefined);
  await client.connect();
  const row = async (id: string) => {
    const result = await client.query<{ xmin: string; last_seen: string }>(
      `SELECT xmin::text, last_seen FROM "${schema}"."sessions" WHERE session_id = $1`,
      [id],
    );
    const found = result.rows[0];
    return found && { xmin: found.xmin, lastSeen: Number(found.last_seen) };
  };
  try {
    await body({ clock, sessions: stores.sessions, row });
  } finally {
    await client.end();
    await stores.close();
  }
}

(available ? describe : describe.skip)(
  "postgres session lookup writes last-seen only when it is older than the refresh interval",
  () => {
    it("a lookup right after bind, and any lookup inside the interval, leaves the row untouched", () =>
      withSessions(async ({ clock, sessions, row }) => {
        await sessions.bind("s1", alice);
        const bound = await row("s1");
        assert.ok(bound);
        for (let i = 0; i < 5; i++) {
          assert.deepEqual(await sessions.lookup("s1"), alice);
          clock.advance(Math.floor((MAX_SESSION_REFRESH_INTERVAL_MS - 1) / 5));
        }
        assert.deepEqual(await row("s1"), bound, "a lookup inside the refresh interval wrote the row");

        clock.advance(MAX_SESSION_REFRESH_INTERVAL_MS);
        assert.deepEqual(await sessions.lookup("s1"), alice);
        const refreshed = await row("s1");
        assert.ok(refreshed);
        assert.notEqual(refreshed.xmin, bound.xmin);
        assert.equal(refreshed.lastSeen, clock.now());
        assert.deepEqual(await sessions.lookup("s1"), alice);
        assert.deepEqual(await row("s1"), refreshed);
      }));

    it("an idle-expired session is refused and deleted by the lookup that finds it", () =>
      withSessions(async ({ clock, sessions, row }) => {
        await sessions.bind("s1", alice);
        clock.advance(TTL);
        assert.equal(await sessions.lookup("s1"), null);
        assert.equal(await row("s1"), undefined);
      }));

    it("a clock moved back rewrites last-seen, as the memory store does", () =>
      withSessions(async ({ clock, sessions, row }) => {
        await sessions.bind("s1", alice);
        clock.advance(-5000);
        assert.deepEqual(await sessions.lookup("s1"), alice);
        assert.equal((await row("s1"))?.lastSeen, clock.now());
      }));
  },
);
