import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createPostgresStores, openPostgresStores } from "../src/stores/postgres/index.js";
import type { AuditEvent, Stores } from "../src/stores/types.js";
import { POSTGRES_URL, testSchemas, urlWithSchema } from "./postgres-helpers.js";

const { available, next: freshSchema, nextUrl: freshUrl } = await testSchemas("e");
const secret = randomBytes(32);

/** Two gateway instances (separate pools) sharing one schema. */
async function twoInstances(): Promise<[Stores, Stores]> {
  const url = freshUrl();
  const a = await openPostgresStores(url, { secret, poolSize: 2 });
  const b = await openPostgresStores(url, { secret, poolSize: 2 });
  return [a, b];
}

async function terminate(applicationName: string, queryLike: string): Promise<number> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const killed = await client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE $2",
      [applicationName, queryLike],
    );
    return killed.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

describe.runIf(available)("postgres store: events across instances (LISTEN/NOTIFY)", () => {
  it("an instance sees every decision made through another, as the audit log records it", async () => {
    const [a, b] = await twoInstances();
    try {
      const seen: AuditEvent[] = [];
      const unsubscribe = a.pairing.subscribe((event) => seen.push(event));
      // A write through A waits until A listens; what B decides after that must reach A.
      await a.pairing.generateCode("discord", "bob");
      const code = await b.pairing.generateCode("telegram", "alice", { userName: "Alice", firstMessage: "hi" });
      expect(await b.pairing.approve("telegram", code, "", "", { approvedBy: "owner-1" })).toBe(true);
      await expect.poll(() => seen.length, { timeout: 5000 }).toBe(3);
      const logged = await b.pairing.audit();
      expect(seen).toEqual(logged.events);
      expect(seen.map((e) => [e.type, e.channelId, e.actor])).toEqual([
        ["requested", "bob", "bob"],
        ["requested", "alice", "alice"],
        ["approved", "alice", "owner-1"],
      ]);
      expect(seen[2]?.detail).toEqual({ userName: "Alice", firstMessage: "hi" });
      unsubscribe();
      await b.pairing.revoke("alice", "telegram");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen.length).toBe(3);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("every listener gets its own copy, and one that throws does not stop the others", async () => {
    const [a, b] = await twoInstances();
    try {
      const first: AuditEvent[] = [];
      const second: AuditEvent[] = [];
      a.pairing.subscribe(() => {
        throw new Error("listener bug");
      });
      a.pairing.subscribe((event) => {
        first.push(event);
        event.detail.changed = true;
      });
      a.pairing.subscribe((event) => second.push(event));
      await a.pairing.generateCode("telegram", "alice", { userName: "Alice" });
      await expect.poll(() => second.length, { timeout: 5000 }).toBe(1);
      expect(first.length).toBe(1);
      expect(second[0]?.detail).toEqual({ userName: "Alice" });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("re-listens when its connection drops and replays what was decided meanwhile", async () => {
    const schema = freshSchema();
    const url = urlWithSchema(schema);
    const a = await openPostgresStores(url, { secret, poolSize: 2 });
    const b = await openPostgresStores(url, { secret, poolSize: 2 });
    try {
      const seen: string[] = [];
      a.pairing.subscribe((event) => seen.push(`${event.type}:${event.channelId}`));
      await a.pairing.generateCode("telegram", "before");
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(["requested:before"]);
      // The listener's last statement read the newest audit id; kill exactly that connection.
      expect(await terminate(`gatehouse:${schema}`, "%coalesce(max(id)%")).toBe(1);
      await b.pairing.generateCode("telegram", "during");
      await expect.poll(() => seen, { timeout: 10_000 }).toEqual(["requested:before", "requested:during"]);
      await b.pairing.generateCode("telegram", "after");
      await expect
        .poll(() => seen, { timeout: 10_000 })
        .toEqual(["requested:before", "requested:during", "requested:after"]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("on a pool the caller owns: works, and close() releases the LISTEN connection but leaves the pool open", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 3, connectionTimeoutMillis: 2000 });
    let open: Stores | undefined;
    try {
      const stores = await createPostgresStores(pool, { secret, schema: freshSchema() });
      open = stores;
      const seen: string[] = [];
      const unsubscribe = stores.pairing.subscribe((event) => seen.push(event.type));
      const code = await stores.pairing.generateCode("telegram", "alice");
      expect(await stores.pairing.approve("telegram", code)).toBe(true);
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(["requested", "approved"]);
      await stores.sessions.bind("s1", { userId: "alice", role: "user" });
      expect(await stores.sessions.lookup("s1")).toEqual({ userId: "alice", role: "user" });
      // The last unsubscribe gives the LISTEN connection up (closed, not handed back); a new subscription takes one
      // again, from the idle ones or a new one; close() releases it. Only a LISTEN connection stays checked out.
      const held = (): number => pool.totalCount - pool.idleCount;
      await expect.poll(held, { timeout: 5000 }).toBe(1);
      const whileListening = pool.totalCount;
      unsubscribe();
      expect(pool.totalCount).toBe(whileListening - 1);
      expect(held()).toBe(0);
      stores.pairing.subscribe(() => undefined);
      await stores.pairing.generateCode("telegram", "bob");
      await expect.poll(held, { timeout: 5000 }).toBe(1);
      const beforeClose = pool.totalCount;
      await stores.close();
      open = undefined;
      expect(pool.totalCount).toBe(beforeClose - 1);
      await expect.poll(held, { timeout: 5000 }).toBe(0);
      const still = await pool.query("SELECT 1 AS one");
      expect(still.rows).toEqual([{ one: 1 }]);
    } finally {
      // A failed step leaves the stores open: closed here, so pool.end() returns and the failure is the one reported.
      await open?.close();
      await pool.end();
    }
  });

  it("on a full pool the caller owns: a LISTEN connection given up at the deadline is closed when it comes, not kept", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2, connectionTimeoutMillis: 10_000 });
    const held: pg.PoolClient[] = [];
    try {
      const stores = await createPostgresStores(pool, { secret, schema: freshSchema(), timeoutMs: 1000 });
      held.push(await pool.connect(), await pool.connect());
      const seen: string[] = [];
      stores.pairing.subscribe((event) => seen.push(event.type));
      // The subscription's connection waits for a slot past its 1 s deadline; then both slots come free.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const client of held.splice(0)) client.release();
      const code = await stores.pairing.generateCode("telegram", "alice");
      expect(await stores.pairing.approve("telegram", code)).toBe(true);
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(["requested", "approved"]);
      await stores.close();
      expect(pool.totalCount).toBeLessThanOrEqual(1);
      expect(pool.idleCount).toBe(pool.totalCount);
    } finally {
      for (const client of held) client.release();
      await Promise.race([pool.end(), new Promise((resolve) => setTimeout(resolve, 2000))]);
    }
  });

  it("a subscription does not take a pool slot: with ?pool=1 calls keep working while listening", async () => {
    const stores = await openPostgresStores(`${freshUrl()}&pool=1`, { secret, timeoutMs: 2000 });
    try {
      const seen: string[] = [];
      stores.pairing.subscribe((event) => seen.push(event.type));
      const code = await stores.pairing.generateCode("telegram", "alice");
      expect(await stores.pairing.approve("telegram", code)).toBe(true);
      expect(await stores.pairing.isPaired("alice", "telegram")).toBe(true);
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(["requested", "approved"]);
    } finally {
      await stores.close();
    }
  });

  it("refuses something that is not a pool", async () => {
    await expect(createPostgresStores({} as pg.Pool, { secret })).rejects.toThrow(/needs a pg Pool/);
  });
});
