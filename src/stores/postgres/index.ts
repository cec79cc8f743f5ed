import type { Pool, PoolConfig } from "pg";
import type { OpenStoresOptions } from "../open-options.js";
import { assertClient, loadClientLibrary, poolParameter, resolvePoolSize, resolveTimeout } from "../sql/pooled.js";
import { openSqlStores } from "../sql/stores.js";
import { resolveStoreSecret, type StoreSecret } from "../store-secret.js";
import type { Stores } from "../types.js";
import {
  assertSchemaName,
  listenOnPool,
  PostgresDriver,
  PostgresSchemaError,
  type ListenConnection,
} from "./database.js";
import { migrate, MIGRATIONS } from "./migrations.js";
import { PostgresPairedLookup } from "./paired-lookup.js";

export { PostgresSchemaError, MIGRATIONS };
export { DEFAULT_POOL_SIZE } from "../sql/pooled.js";

export const DEFAULT_SCHEMA = "gatehouse";

/** Options for stores on a pool the caller already has (and keeps: close() leaves it open). */
export type PostgresStoresOptions = Omit<OpenStoresOptions, "poolSize" | "keyPrefix">;

/**
 * Opens the PostgreSQL pairing, session and token stores at `postgres://user@host:port/database`. URL parameters
 * `?schema=` (default "gatehouse"; `options.schema` wins) and `?pool=` (pool size, default 10; `options.poolSize` wins)
 * are ours; any other parameter goes to `pg`. The schema and its tables are created when missing. Every call answers
 * within `options.timeoutMs` (default 2000 ms) or rejects with StoreUnavailableError.
 */
export async function openPostgresStores(url: string, options: OpenStoresOptions = {}): Promise<Stores> {
  const parsed = parsePostgresUrl(url);
  const poolSize = resolvePoolSize("postgres", options.poolSize, parsed.poolSize);
  const timeoutMs = resolveTimeout("postgres", options.timeoutMs);
  const schema = options.schema ?? parsed.schema ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const secret = resolveStoreSecret("postgres", options);
  const pg = await loadPg();
  const config: PoolConfig = {
    connectionString: parsed.connectionString,
    max: poolSize,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    idleTimeoutMillis: 30_000,
    // A silently dead peer (e.g. the LISTEN connection across a broken network) is noticed in seconds, not hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    allowExitOnIdle: true,
    // Shows in pg_stat_activity which gateway (schema) a connection belongs to.
    application_name: `gatehouse:${schema}`.slice(0, 63),
  };
  const pool = new pg.Pool(config);
  // LISTEN gets a connection of its own, so a subscription never takes one of the pool's `poolSize` slots.
  const connectListener = async (): Promise<ListenConnection> => {
    const client = new pg.Client(config);
    client.on("error", () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return { client, release: () => void client.end().catch(() => undefined) };
  };
  try {
    return await createStores(pg, pool, { ...options, schema, timeoutMs, secret }, connectListener, async () => {
      await pool.end();
    });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}

/**
 * The same stores on a `pg` Pool the caller already has. The pool is not ended by close(). Give the pool a
 * `connectionTimeoutMillis` so a down server fails fast; every call also has the `timeoutMs` deadline. A subscription
 * holds one of the pool's connections for LISTEN.
 */
export async function createPostgresStores(pool: Pool, options: PostgresStoresOptions = {}): Promise<Stores> {
  assertClient(pool, ["connect", "query"], "createPostgresStores needs a pg Pool (an object with connect and query)");
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const resolved = {
    ...options,
    schema,
    timeoutMs: resolveTimeout("postgres", options.timeoutMs),
    secret: resolveStoreSecret("postgres", options),
  };
  return createStores(await loadPg(), pool, resolved, listenOnPool(pool), async () => undefined);
}

interface ResolvedOptions extends Omit<PostgresStoresOptions, "secret"> {
  schema: string;
  timeoutMs: number;
  secret: StoreSecret;
}

async function createStores(
  pg: PgModule,
  pool: Pool,
  options: ResolvedOptions,
  connectListener: () => Promise<ListenConnection>,
  endPool: () => Promise<void>,
): Promise<Stores> {
  // An idle connection that breaks (server restart, network) is reported here; it is simply dropped by the pool.
  const onPoolError = (): void => undefined;
  pool.on("error", onPoolError);
  const driver = new PostgresDriver(
    pool,
    options.schema,
    options.timeoutMs,
    pg.types.getTypeParser,
    async () => {
      await endPool();
      pool.off("error", onPoolError);
    },
    connectListener,
  );
  try {
    await migrate(driver);
    const { secret, ...rest } = options;
    return await openSqlStores(driver, rest, {
      where: `postgres (schema "${options.schema}")`,
      secret,
      lookup: new PostgresPairedLookup(driver),
    });
  } catch (error) {
    pool.off("error", onPoolError);
    throw error;
  }
}

interface ParsedUrl {
  connectionString: string;
  schema?: string;
  poolSize?: number;
}

/** Takes our parameters (`schema`, `pool`) out of the URL; the rest is pg's connection string. */
export function parsePostgresUrl(url: string): ParsedUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      'postgres store URL is not a valid URL; expected e.g. "postgres://user@127.0.0.1:5432/database"',
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new TypeError(`postgres store URL must start with postgres:// or postgresql:// (got "${parsed.protocol}")`);
  }
  const result: ParsedUrl = { connectionString: "" };
  const schema = parsed.searchParams.get("schema");
  if (schema !== null) {
    assertSchemaName(schema);
    result.schema = schema;
  }
  const pool = poolParameter("postgres", parsed);
  if (pool !== undefined) result.poolSize = pool;
  parsed.searchParams.delete("schema");
  parsed.searchParams.delete("pool");
  result.connectionString = parsed.toString();
  return result;
}

type PgModule = typeof import("pg");

/** `pg` is an optional peer dependency, loaded only when a PostgreSQL store is configured. */
function loadPg(): Promise<PgModule> {
  return loadClientLibrary<PgModule>(
    "postgres",
    "pg",
    () => import("pg") as Promise<PgModule & { default?: PgModule }>,
  );
}
