/**
 * Two `gatehouse start` processes at the same moment on one empty store: exactly one mints and prints the first-start
 * owner token, the other starts normally without one.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { FIRST_OWNER_TOKEN_ID } from "../src/auth/token.js";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import { cliWorkspace, startGatehouse } from "./cli-helpers.js";
import { POSTGRES_URL, testSchemas, urlWithSchema } from "./postgres-helpers.js";
import { callApi, newGatewaySecret, startGatewayProcess, type GatewayProcess } from "./support/multi-gateway.js";
import { until } from "./support/until.js";

const TOKEN = /gh_[A-Za-z0-9_-]{43}/g;
const schemas = await testSchemas("first_start_");

/** Both outputs together: one token printed once in all, and one "First start" block. */
function expectOneTokenPrinted(outputs: string[]): string {
  const tokens = outputs.flatMap((output) => output.match(TOKEN) ?? []);
  expect(tokens, outputs.join("\n---\n")).toHaveLength(1);
  expect(outputs.filter((output) => output.includes("First start"))).toHaveLength(1);
  return tokens[0] as string;
}

/**
 * Waits until `count` backends wait on a lock that `holder` holds. Asked on a connection of its own, outside any
 * transaction: pg_stat_activity is a snapshot taken once per transaction.
 */
async function untilBlocked(holder: pg.Client, count: number, what: string): Promise<void> {
  const { rows } = await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const observer = new pg.Client({ connectionString: POSTGRES_URL });
  await observer.connect();
  try {
    await until(
      async () => {
        // Blocked by the holder, or by a session the holder blocks (the store's write lock queues the second writer
        // behind the first, which waits on the holder).
        const blocked = await observer.query<{ n: number }>(
          `WITH direct AS (SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)))
         SELECT count(*)::int AS n FROM pg_stat_activity a
         WHERE a.pid IN (SELECT pid FROM direct) OR EXISTS (SELECT 1 FROM direct d WHERE d.pid = ANY(pg_blocking_pids(a.pid)))`,
          [rows[0]?.pid],
        );
        // At least: an instance's heartbeat write may queue behind the same lock too.
        return (blocked.rows[0]?.n ?? 0) >= count;
      },
      what,
      20_000,
    );
  } finally {
    await observer.end();
  }
}

/** Waits for every start that succeeded and stops it (also when the test failed half-way); all must exit 0. */
async function stopAll<G extends { stop(): Promise<number | string | null> }>(starting: Promise<G>[]): Promise<void> {
  const started = (await Promise.allSettled(starting)).flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const exits = await Promise.all(started.map((g) => g.stop()));
  expect(exits).toEqual(started.map(() => 0));
}

/** The store holds exactly the first-start owner token, and the printed token is it. */
async function expectOneStoredToken(stores: Stores, printed: string, gateways: string[]): Promise<void> {
  const records = (await stores.tokens?.list()) ?? [];
  expect(records.map((r) => [r.id, r.role, r.userId])).toEqual([[FIRST_OWNER_TOKEN_ID, "owner", "owner"]]);
  // Both gateways (the loser too) run and admit the one token.
  for (const url of gateways)
    expect((await callApi(url, "GET", "/api/pairing/pending", { token: printed })).status).toBe(200);
}

describe("first start of two gateways at once on one empty store", () => {
  it("sqlite: of two processes started together, one prints the owner token and the other starts without one", async () => {
    // SQLite has no lock that holds back the token insert but not the migrations before it (they write too, under a
    // 5 s busy timeout), so here the processes only start at the same moment; the PostgreSQL case below forces the race.
    const ws = cliWorkspace();
    const starting = [startGatehouse([...ws.args, "--port", "0"]), startGatehouse([...ws.args, "--port", "0"])];
    starting.forEach((start) => start.catch(() => undefined));
    try {
      const gateways = await Promise.all(starting);
      const printed = expectOneTokenPrinted(gateways.map((g) => g.output()));
      const stores = await ws.open();
      try {
        await expectOneStoredToken(
          stores,
          printed,
          gateways.map((g) => g.url),
        );
      } finally {
        await stores.close();
      }
    } finally {
      await stopAll(starting).finally(() => ws.cleanup());
    }
  }, 60_000);

  it.skipIf(!schemas.available)(
    "postgres: two instances forced to race, one prints the owner token, the other starts without one",
    async () => {
      const schema = schemas.next();
      const url = urlWithSchema(schema);
      const secret = newGatewaySecret();
      // Migrated, but holding no token.
      const stores = await openStores(url, { secret: Buffer.from(secret, "utf8") });
      const [migrationLock, tableLock] = [
        new pg.Client({ connectionString: POSTGRES_URL }),
        new pg.Client({ connectionString: POSTGRES_URL }),
      ];
      let starting: Promise<GatewayProcess>[] = [];
      try {
        await Promise.all([migrationLock.connect(), tableLock.connect()]);
        // Stage 1: both instances wait on the migration lock (30 s deadline), so they go on together once it is released.
        await migrationLock.query("BEGIN");
        await migrationLock.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
          `gatehouse:migrate:${schema}`,
        ]);
        // Stage 2: reads go on under this lock, inserts into api_tokens wait, so both read "no token" before either writes.
        await tableLock.query("BEGIN");
        await tableLock.query(`LOCK TABLE "${schema}"."api_tokens" IN EXCLUSIVE MODE`);
        starting = [startGatewayProcess(url, secret), startGatewayProcess(url, secret)];
        starting.forEach((start) => start.catch(() => undefined));
        await untilBlocked(migrationLock, 2, "both instances to wait on the migration lock");
        await migrationLock.query("COMMIT");
        // Each insert waits within its 2 s store deadline; both are waiting, so both have read the empty table.
        await untilBlocked(tableLock, 2, "both instances to wait on the first-start insert");
        await tableLock.query("COMMIT");
        const gateways = await Promise.all(starting);
        const printed = expectOneTokenPrinted(gateways.map((g) => g.output()));
        await expectOneStoredToken(
          stores,
          printed,
          gateways.map((g) => g.url),
        );
      } finally {
        await Promise.all([migrationLock.end(), tableLock.end()]);
        await stores.close();
        await stopAll(starting);
      }
    },
    60_000,
  );
});
