import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { afterAll, describe, it } from "vitest";
import { StoreUnavailableError } from "../src/pairing/errors.js";
import { MAX_SESSION_REFRESH_INTERVAL_MS } from "../src/stores/session-defaults.js";
import { SqliteConnection, SqliteSessionBindingStore } from "../src/stores/sqlite/index.js";
import { createTestClock } from "../src/testing/runner.js";

const dir = mkdtempSync(join(tmpdir(), "gh-session-refresh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const alice = { userId: "alice", role: "user" };
const TTL = 30 * 60_000; // refresh interval: min(60 s, TTL / 10) = 60 s

/** A session store on its own file, plus what the store's own connection has changed so far (`total_changes()`). */
function open(busyTimeoutMs?: number) {
  const file = join(dir, `sessions-${++files}.db`);
  const clock = createTestClock();
  const connection = SqliteConnection.open(file, { busyTimeoutMs });
  const store = new SqliteSessionBindingStore(connection, { now: clock.now, idleTtlMs: TTL });
  const totalChanges = connection.db.prepare("SELECT total_changes()").pluck();
  const lastSeen = connection.db.prepare("SELECT last_seen FROM sessions WHERE session_id = ?").pluck();
  return {
    file,
    clock,
    store,
    changes: () => totalChanges.get() as number,
    lastSeen: (id: string) => lastSeen.get(id) as number | undefined,
  };
}

describe("sqlite session lookup writes last-seen only when it is older than the refresh interval", () => {
  it("a lookup right after bind, and any lookup inside the interval, changes no row", async () => {
    const { clock, store, changes, lastSeen } = open();
    await store.bind("s1", alice);
    const boundAt = clock.now();
    const afterBind = changes();
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await store.lookup("s1"), alice);
      clock.advance(Math.floor((MAX_SESSION_REFRESH_INTERVAL_MS - 1) / 5));
    }
    assert.equal(changes(), afterBind, "a lookup inside the refresh interval wrote to the database");
    assert.equal(lastSeen("s1"), boundAt);

    clock.advance(MAX_SESSION_REFRESH_INTERVAL_MS);
    assert.deepEqual(await store.lookup("s1"), alice);
    assert.equal(changes(), afterBind + 1, "a lookup past the refresh interval must write last-seen once");
    assert.equal(lastSeen("s1"), clock.now());
    assert.deepEqual(await store.lookup("s1"), alice);
    assert.equal(changes(), afterBind + 1);
    await store.close();
  });

  it("an idle-expired session is refused and deleted by the lookup that finds it", async () => {
    const { clock, store, changes, lastSeen } = open();
    await store.bind("s1", alice);
    clock.advance(TTL);
    const before = changes();
    assert.equal(await store.lookup("s1"), null);
    assert.equal(changes(), before + 1);
    assert.equal(lastSeen("s1"), undefined);
    await store.close();
  });

  it("a lookup inside the interval answers while another process holds the write lock", async () => {
    const { file, clock, store } = open(50);
    await store.bind("s1", alice);
    const other = new Database(file);
    try {
      other.exec("BEGIN IMMEDIATE");
      clock.advance(1000);
      assert.deepEqual(await store.lookup("s1"), alice);
      // A refresh needs the lock: it fails closed after the busy timeout rather than answering without it.
      clock.advance(MAX_SESSION_REFRESH_INTERVAL_MS);
      await assert.rejects(() => store.lookup("s1"), StoreUnavailableError);
      other.exec("ROLLBACK");
      assert.deepEqual(await store.lookup("s1"), alice);
    } finally {
      other.close();
      await store.close();
    }
  });
});
