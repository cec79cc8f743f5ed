import type { Pool, PoolOptions, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { runWithDeadline, type CallDeadline } from "../deadline.js";
import type { OpenStoresOptions } from "../open-options.js";
import type { SqlDialect, SqlDriver, SqlExecutor } from "../sql/driver.js";
import { applyMissingMigrations } from "../sql/migrations.js";
import {
  assertClient,
  inTransaction,
  loadClientLibrary,
  poolParameter,
  PooledSqlDriver,
  resolvePoolSize,
  resolveTimeout,
} from "../sql/pooled.js";
import { openSqlStores } from "../sql/stores.js";
import { resolveStoreSecret } from "../store-secret.js";
import type { Stores } from "../types.js";
import { MIGRATIONS } from "./schema.js";

export { DEFAULT_POOL_SIZE } from "../sql/pooled.js";
export const DEFAULT_TABLE_PREFIX = "gatehouse_";
/** Table prefixes we accept: short enough that every table name stays within MariaDB's 64 characters. */
const PREFIX = /^[a-z_][a-z0-9_]{0,39}$/;
/** Errors after which the same transaction is simply run again: deadlock, lock wait timeout. */
const RETRYABLE = new Set([1213, 1205]);
/** Migrations may wait for another instance that is migrating. */
const MIGRATION_LOCK_SECONDS = 30;

/** Options for stores on a mysql2 pool the caller already has (and keeps: close() leaves it open). */
export type MariaDbStoresOptions = Omit<OpenStoresOptions, "poolSize" | "schema">;

const dialect = (prefix: string): SqlDialect => ({
  table: (name) => `\`${prefix}${name}\``,
  upsert: (table, columns, _key, update, values = columns.map(() => "?")) =>
    `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${values.join(", ")}) ` +
    `ON DUPLICATE KEY UPDATE ${update.map((c) => `${c} = VALUES(${c})`).join(", ")}`,
  insertIfAbsent: (table, columns, key) =>
    `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) ` +
    `ON DUPLICATE KEY UPDATE ${key[0]} = ${key[0]}`,
  keyColumn: "name",
  seqValue: null,
  textAsBytes: true,
  approvalOrder: "seq",
});

/** Values as mysql2 takes them; it escapes each on the client (Buffers as hex literals). */
const values = (params: readonly unknown[] = []): ({} | null)[] => params.map((value) => value ?? null);

/** Statements on a pool or one connection; with a deadline, none is sent once it has passed (the caller was answered). */
const on = (queryable: Pick<Pool, "query">, deadline?: CallDeadline): SqlExecutor => {
  const query = <R extends ResultSetHeader | RowDataPacket[]>(sql: string, params?: readonly unknown[]) => {
    deadline?.check();
    return queryable.query<R>(sql, values(params)).then(([result]) => result);
  };
  return {
    execute: async (sql, params) => (await query<ResultSetHeader>(sql, params)).affectedRows,
    get: async <T>(sql: string, params?: readonly unknown[]) =>
      ((await query<RowDataPacket[]>(sql, params))[0] as T | undefined) ?? null,
    all: async <T>(sql: string, params?: readonly unknown[]) => (await query<RowDataPacket[]>(sql, params)) as T[],
  };
};

/** The SQL stores' driver on a mysql2 pool: writers take turns on the `locks` row; a deadlock is retried. */
class MariaDbDriver extends PooledSqlDriver implements SqlDriver {
  readonly backend = "mariadb";
  readonly dialect: SqlDialect;
  protected readonly statements: SqlExecutor;

  constructor(
    readonly pool: Pool,
    readonly prefix: string,
    timeoutMs: number,
    endPool: () => Promise<void>,
  ) {
    super(timeoutMs, endPool);
    this.dialect = dialect(prefix);
    this.statements = on(pool);
  }

  async write<T>(work: (tx: SqlExecutor) => Promise<T>, deadline: CallDeadline): Promise<T> {
    const connection = await this.pool.getConnection();
    const tx = on(connection, deadline);
    let usable = true;
    const steps = {
      // A caller that gave up while this waited for a connection is not served: nothing starts after its deadline.
      begin: () => tx.execute("START TRANSACTION"),
      commit: () => connection.query("COMMIT"),
      rollback: () =>
        connection.query("ROLLBACK").then(
          () => true,
          () => (usable = false),
        ),
      retryable: (error: unknown) => RETRYABLE.has(Number((error as { errno?: unknown } | null)?.errno)),
    };
    try {
      return await inTransaction(steps, deadline, async () => {
        await tx.get(`SELECT name FROM ${this.dialect.table("locks")} WHERE name = 'write' FOR UPDATE`);
        return work(tx);
      });
    } finally {
      if (usable) connection.release();
      else connection.destroy();
    }
  }
}

/** Applies the migrations the tables lack, one instance at a time (a named lock), refusing tables of a newer gatehouse. */
async function migrate(driver: MariaDbDriver): Promise<void> {
  const connection = await driver.pool.getConnection();
  const lock = `gatehouse:migrate:${driver.prefix}`;
  try {
    const sql = on(connection);
    const granted = await sql.get<{ ok: unknown }>("SELECT GET_LOCK(?, ?) AS ok", [lock, MIGRATION_LOCK_SECONDS]);
    if (Number(granted?.ok) !== 1)
      throw new Error(`another gatehouse is migrating the ${driver.prefix} tables; try again`);
    const t = (name: string): string => driver.dialect.table(name);
    await sql.execute(
      `CREATE TABLE IF NOT EXISTS ${t("schema_migrations")} (version INT PRIMARY KEY, description TEXT NOT NULL)`,
    );
    const version = String((await sql.get<{ v: string }>("SELECT VERSION() AS v"))?.v);
    const collation = version.includes("MariaDB") ? "utf8mb4_nopad_bin" : "utf8mb4_0900_bin";
    const tableOptions = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`;
    await applyMissingMigrations(
      sql,
      t("schema_migrations"),
      MIGRATIONS,
      async (migration) => {
        for (const statement of migration.statements(t, tableOptions)) await sql.execute(statement);
      },
      (newest, latest) =>
        new Error(
          `the ${driver.prefix} tables were migrated to version ${newest} by a newer gatehouse; this one knows up to ${latest}. Upgrade gatehouse.`,
        ),
    );
  } finally {
    await connection.query("SELECT RELEASE_LOCK(?)", [lock]).catch(() => undefined);
    connection.release();
  }
}

async function assemble(driver: MariaDbDriver, options: MariaDbStoresOptions): Promise<Stores> {
  const secret = resolveStoreSecret("mariadb", options);
  // Migrating may wait for another instance that is migrating: it gets a deadline of its own.
  try {
    await runWithDeadline("mariadb", MIGRATION_LOCK_SECONDS * 1000 + driver.timeoutMs, () => migrate(driver));
  } catch (error) {
    throw driver.failure(error);
  }
  return openSqlStores(driver, options, { where: `mariadb (tables "${driver.prefix}*")`, secret });
}

function assertPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) {
    throw new TypeError(
      `mariadb table prefix must be 1-40 characters: a lower-case letter or '_', then lower-case letters, digits or '_' (got ${JSON.stringify(prefix)})`,
    );
  }
  return prefix;
}

/** `mysql://` or `mariadb://user[:password]@host[:port]/database[?prefix=gatehouse_&pool=10]`. */
export function parseMariaDbUrl(url: string): { config: PoolOptions; prefix?: string; poolSize?: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('mariadb store URL is not a valid URL; expected e.g. "mysql://root@127.0.0.1:3306/gatehouse"');
  }
  if (parsed.protocol !== "mysql:" && parsed.protocol !== "mariadb:") {
    throw new TypeError(`mariadb store URL must start with mysql:// or mariadb:// (got "${parsed.protocol}")`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (database === "" || database.includes("/"))
    throw new TypeError("mariadb store URL must name one database, e.g. mysql://root@127.0.0.1:3306/gatehouse");
  const unknown = [...parsed.searchParams.keys()].filter((name) => name !== "prefix" && name !== "pool");
  if (unknown.length > 0)
    throw new TypeError(`mariadb store URL parameter ${unknown[0]} is not known; use prefix or pool`);
  const pool = poolParameter("mariadb", parsed);
  const prefix = parsed.searchParams.get("prefix");
  return {
    config: {
      host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
      port: parsed.port === "" ? 3306 : Number(parsed.port),
      user: decodeURIComponent(parsed.username) || "root",
      password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
      database,
    },
    ...(prefix === null ? {} : { prefix: assertPrefix(prefix) }),
    ...(pool === undefined ? {} : { poolSize: pool }),
  };
}

/**
 * Opens the MariaDB/MySQL stores (pairing, sessions, tokens, budgets, seen-once keys, approvals, conversations) at
 * `mysql://` or `mariadb://user@host:port/database`.
 * URL parameters `?prefix=` (table prefix, default "gatehouse_"; `options.keyPrefix` wins) and `?pool=` (pool size,
 * default 10; `options.poolSize` wins). Tables are created when missing. Every call answers within `options.timeoutMs`
 * (default 2000 ms) or rejects with StoreUnavailableError.
 */
export async function openMariaDbStores(url: string, options: OpenStoresOptions = {}): Promise<Stores> {
  const parsed = parseMariaDbUrl(url);
  const timeoutMs = resolveTimeout("mariadb", options.timeoutMs);
  const prefix = assertPrefix(options.keyPrefix ?? parsed.prefix ?? DEFAULT_TABLE_PREFIX);
  const poolSize = resolvePoolSize("mariadb", options.poolSize, parsed.poolSize);
  resolveStoreSecret("mariadb", options);
  const mysql = await loadClientLibrary("mariadb", "mysql2", () => import("mysql2/promise"));
  const pool = mysql.createPool({
    ...parsed.config,
    connectionLimit: poolSize,
    connectTimeout: timeoutMs,
    enableKeepAlive: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
  });
  // A lock wait ends with the call's deadline, so no transaction is left queueing after its caller gave up.
  pool.pool.on("connection", (connection) => {
    connection.query(`SET SESSION innodb_lock_wait_timeout = ${Math.ceil(timeoutMs / 1000)}`);
    connection.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  });
  const driver = new MariaDbDriver(pool, prefix, timeoutMs, () => pool.end());
  try {
    return await assemble(driver, options);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}

/**
 * The same stores on a mysql2/promise Pool the caller already has; close() leaves it open. Give the pool a
 * `connectTimeout` so a down server fails fast; every call also has the `timeoutMs` deadline.
 */
export async function createMariaDbStores(pool: Pool, options: MariaDbStoresOptions = {}): Promise<Stores> {
  const needs = "createMariaDbStores needs a mysql2/promise Pool (an object with getConnection and query)";
  assertClient(pool, ["getConnection", "query"], needs);
  const prefix = assertPrefix(options.keyPrefix ?? DEFAULT_TABLE_PREFIX);
  const timeoutMs = resolveTimeout("mariadb", options.timeoutMs);
  return assemble(new MariaDbDriver(pool, prefix, timeoutMs, async () => undefined), options);
}
