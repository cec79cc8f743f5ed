import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { MIGRATIONS, openPostgresStores, PostgresSchemaError } from "../src/stores/postgres/index.js";
import type { Stores } from "../src/stores/types.js";
import { POSTGRES_URL, testSchemas, urlWithSchema } from "./postgres-helpers.js";

const { available, next: freshSchema, nextUrl: freshUrl } = await testSchemas("m");
const secret = randomBytes(32);

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function closeAll(stores: Stores[]): Promise<void> {
  await Promise.all(stores.map((s) => s.close()));
}

describe.runIf(available)("postgres store: migrations, schemas and options", () => {
  it("creates the schema and applies every migration exactly once when several instances start at once", async () => {
    for (let round = 0; round < 3; round++) {
      const schema = freshSchema();
      const opened = await Promise.all(
        Array.from({ length: 4 }, () => openPostgresStores(urlWithSchema(schema), { secret, poolSize: 2 })),
      );
      try {
        const rows = await admin((c) =>
          c.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`),
        );
        expect(rows.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
        // Every instance works against the one schema.
        const [first, second] = opened;
        const code = await first!.pairing.generateCode("telegram", `alice-${round}`);
        expect(await second!.pairing.approve("telegram", code)).toBe(true);
        expect(await opened[3]!.pairing.isPaired(`alice-${round}`, "telegram")).toBe(true);
      } finally {
        await closeAll(opened);
      }
    }
  });

  it("an instance starting while another holds the migration lock waits for it", async () => {
    const schema = freshSchema();
    const holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    let settled = false;
    let opening: Promise<Stores> | undefined;
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`gatehouse:migrate:${schema}`]);
      opening = openPostgresStores(urlWithSchema(schema), { secret, poolSize: 1 });
      void opening.then(
        () => (settled = true),
        () => (settled = true),
      );
      // Wait until the opener is blocked on the lock, then check it has not migrated anything.
      await expect
        .poll(
          async () => {
            // A separate connection: inside the holder's transaction pg_stat_activity is a frozen snapshot.
            const waiting = await admin((c) =>
              c.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1`,
                [`gatehouse:${schema}`],
              ),
            );
            return waiting.rows[0]?.n ?? 0;
          },
          { timeout: 10_000 },
        )
        .toBeGreaterThan(0);
      expect(settled).toBe(false);
      const exists = await holder.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
      expect(exists.rowCount).toBe(0);
    } finally {
      await holder.query("COMMIT");
      await holder.end();
    }
    const stores = await opening!;
    try {
      expect(await stores.pairing.listPaired()).toEqual([]);
    } finally {
      await stores.close();
    }
  });

  it("refuses a schema migrated by a newer gatehouse and leaves it unchanged", async () => {
    const schema = freshSchema();
    const stores = await openPostgresStores(urlWithSchema(schema), { secret, poolSize: 1 });
    const code = await stores.pairing.generateCode("telegram", "alice");
    await stores.pairing.approve("telegram", code);
    await stores.close();
    await admin((c) =>
      c.query(`INSERT INTO "${schema}".schema_migrations (version, description) VALUES (999, 'future')`),
    );
    const error = await openPostgresStores(urlWithSchema(schema), { secret }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostgresSchemaError);
    expect((error as Error).message).toMatch(/version 999/);
    const paired = await admin((c) => c.query(`SELECT channel_id FROM "${schema}".paired`));
    expect(paired.rows).toEqual([{ channel_id: "alice" }]);
  });

  it("keeps gateways in different schemas of one database apart, events included", async () => {
    const a = await openPostgresStores(freshUrl(), { secret, poolSize: 2 });
    const b = await openPostgresStores(POSTGRES_URL, { secret, poolSize: 2, schema: freshSchema() });
    try {
      const seenByB: string[] = [];
      const unsubscribe = b.pairing.subscribe((event) => seenByB.push(event.type));
      const code = await a.pairing.generateCode("telegram", "alice");
      expect(await b.pairing.approve("telegram", code)).toBe(false);
      expect(await b.pairing.listPending()).toEqual([]);
      expect(await a.pairing.approve("telegram", code)).toBe(true);
      expect(await b.pairing.isPaired("alice", "telegram")).toBe(false);
      await b.sessions.bind("s1", { userId: "bob", role: "user" });
      expect(await a.sessions.lookup("s1")).toBeNull();
      // B's own event arrives; A's events never do.
      await b.pairing.generateCode("telegram", "carol");
      await expect.poll(() => seenByB, { timeout: 5000 }).toEqual(["requested"]);
      unsubscribe();
    } finally {
      await closeAll([a, b]);
    }
  });

  it("takes the pool size from ?pool= and options.poolSize", async () => {
    const schema = freshSchema();
    const stores = await openPostgresStores(`${urlWithSchema(schema)}&pool=3`, { secret });
    try {
      await Promise.all(Array.from({ length: 30 }, () => stores.sessions.lookup("s1")));
      const connections = await admin((c) =>
        c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [
          `gatehouse:${schema}`,
        ]),
      );
      expect(connections.rows[0]?.n).toBe(3);
    } finally {
      await stores.close();
    }
    const explicit = await openPostgresStores(`${urlWithSchema(schema)}&pool=3`, { secret, poolSize: 1 });
    try {
      await Promise.all(Array.from({ length: 10 }, () => explicit.sessions.lookup("s1")));
      const connections = await admin((c) =>
        c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [
          `gatehouse:${schema}`,
        ]),
      );
      expect(connections.rows[0]?.n).toBe(1);
    } finally {
      await explicit.close();
    }
  });

  it("refuses bad options with an error naming what is wrong, before connecting", async () => {
    const bad: [string, Parameters<typeof openPostgresStores>[1], RegExp][] = [
      [`${POSTGRES_URL}?schema=Robert'); DROP TABLE x;--`, { secret }, /postgres schema/],
      [POSTGRES_URL, { secret, schema: "" }, /postgres schema/],
      [POSTGRES_URL, { secret, schema: "x".repeat(58) }, /postgres schema/],
      [`${POSTGRES_URL}?pool=many`, { secret }, /pool must be a positive integer/],
      [POSTGRES_URL, { secret, poolSize: 0 }, /poolSize must be an integer/],
      [POSTGRES_URL, { secret, timeoutMs: -1 }, /timeoutMs must be a positive number/],
      ["not a url", { secret }, /not a valid URL/],
      ["mysql://127.0.0.1/test", { secret }, /must start with postgres:\/\//],
    ];
    for (const [url, options, message] of bad) {
      await expect(openPostgresStores(url, options)).rejects.toThrow(message);
    }
  });

  it("refuses to run without the shared gateway secret", async () => {
    const saved = process.env.GATEHOUSE_SECRET;
    delete process.env.GATEHOUSE_SECRET;
    try {
      await expect(openPostgresStores(freshUrl(), {})).rejects.toThrow(/needs the gateway secret/);
    } finally {
      if (saved !== undefined) process.env.GATEHOUSE_SECRET = saved;
    }
  });
});
