import type { Pool, PoolConnection, PoolOptions, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import {
  CodeGenerationError,
  PairingInputError,
  SecretMismatchError,
  StoreUnavailableError,
} from "../../pairing/errors.js";
import { runWithDeadline, type CallDeadline } from "../deadline.js";
import type { OpenStoresOptions } from "../open-options.js";
import type { SqlDialect, SqlDriver, SqlExecutor } from "../sql/driver.js";
import { openSqlStores } from "../sql/stores.js";
import { resolveStoreSecret } from "../store-secret.js";
import type { Stores } from "../types.js";
import { MIGRATIONS } from "./schema.js";

export const DEFAULT_TABLE_PREFIX = "gatehouse_";
export const DEFAULT_POOL_SIZE = 10;
const DEFAULT_TIMEOUT_MS = 2000;
/** Table prefixes we accept: short enough that every table name stays within MariaDB's 64 characters. */
const PREFIX = /^[a-z_][a-z0-9_]{0,39}$/;
/** Errors after which the same transaction is simply run again: deadlock, lock wait timeout. */
const RETRYABLE = new Set([1213, 1205]);
const MAX_ATTEMPTS = 5;
/** Migrations may wait for another instance that is migrating. */
const MIGRATION_LOCK_SECONDS = 30;

/** Options for stores on a mysql2 pool the caller already has (and keeps: close() leaves it open). */
export type MariaDbStoresOptions = Omit<OpenStoresOptions, "poolSize" | "schema">;

/** Answers, not failures of the store: they pass through unchanged. */
function isAnswer(error: unknown): boolean {
  return [StoreUnavailableError, CodeGenerationError, PairingInputError, SecretMismatchError].some(
    (type) => error instanceof type,
  );
}

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
class MariaDbDriver implements SqlDriver {
  readonly backend = "mariadb";
  readonly dialect: SqlDialect;
  private readonly statements: SqlExecutor;

  constructor(
    readonly pool: Pool,
    readonly prefix: string,
    readonly timeoutMs: number,
    private readonly endPool: () => Promise<void>,
  ) {
    this.dialect = dialect(prefix);
    this.statements = on(pool);
  }

  execute(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.statements.execute(sql, params);
  }

  get<T>(sql: string, params?: readonly unknown[]): Promise<T | null> {
    return this.statements.get<T>(sql, params);
  }

  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.statements.all<T>(sql, params);
  }

  async write<T>(work: (tx: SqlExecutor) => Promise<T>, deadline: CallDeadline): Promise<T> {
    const connection = await this.pool.getConnection();
    let broken = false;
    const tx = on(connection, deadline);
    try {
      for (let attempt = 1; ; attempt++) {
        // A caller that gave up while this waited for a connection is not served: nothing starts after its deadline.
        await tx.execute("START TRANSACTION");
        try {
          await tx.get(`SELECT name FROM ${this.dialect.table("locks")} WHERE name = 'write' FOR UPDATE`);
          const result = await work(tx);
          // Past the deadline the caller has been told the call failed: roll back rather than commit unseen.
          deadline.check();
          await connection.query("COMMIT");
          return result;
        } catch (error) {
          await connection.query("ROLLBACK").catch(() => {
            broken = true;
          });
          const errno = (error as { errno?: unknown } | null)?.errno;
          if (!broken && !deadline.passed() && attempt < MAX_ATTEMPTS && RETRYABLE.has(Number(errno))) continue;
          throw error;
        }
      }
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  failure(error: unknown): unknown {
    return isAnswer(error) ? error : new StoreUnavailableError("mariadb", { cause: error });
  }

  close(): Promise<void> {
    return this.endPool();
  }
}

/** Applies the migrations the tables lack, one instance at a time (a named lock), refusing tables of a newer gatehouse. */
async function migrate(driver: MariaDbDriver): Promise<void> {
  const connection: PoolConnection = await driver.pool.getConnection();
  const lock = `gatehouse:migrate:${driver.prefix}`;
  try {
    const [[granted]] = await connection.query<RowDataPacket[]>("SELECT GET_LOCK(?, ?) AS ok", [
      lock,
      MIGRATION_LOCK_SECONDS,
    ]);
    if (Number(granted?.ok) !== 1)
      throw new Error(`another gatehouse is migrating the ${driver.prefix} tables; try again`);
    const t = (name: string): string => driver.dialect.table(name);
    const sql = on(connection);
    await sql.execute(
      `CREATE TABLE IF NOT EXISTS ${t("schema_migrations")} (version INT PRIMARY KEY, description TEXT NOT NULL)`,
    );
    const done = new Set(
      (await sql.all<{ version: number }>(`SELECT version FROM ${t("schema_migrations")}`)).map((row) =>
        Number(row.version),
      ),
    );
    const newest = Math.max(0, ...done);
    const latest = MIGRATIONS.at(-1)?.version ?? 0;
    if (newest > latest) {
      throw new Error(
        `the ${driver.prefix} tables were migrated to version ${newest} by a newer gatehouse; this one knows up to ${latest}. Upgrade gatehouse.`,
      );
    }
    const version = String((await sql.get<{ v: string }>("SELECT VERSION() AS v"))?.v);
    const collation = version.includes("MariaDB") ? "utf8mb4_nopad_bin" : "utf8mb4_0900_bin";
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements(t, collation)) await sql.execute(statement);
      await sql.execute(`INSERT INTO ${t("schema_migrations")} (version, description) VALUES (?, ?)`, [
        migration.version,
        migration.description,
      ]);
    }
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

function resolveTimeout(timeoutMs: number | undefined): number {
  const value = timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(value) || value <= 0)
    throw new TypeError(`mariadb timeoutMs must be a positive number (got ${String(value)})`);
  return Math.ceil(value);
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
  const pool = parsed.searchParams.get("pool");
  if (pool !== null && !/^\d+$/.test(pool))
    throw new TypeError(`mariadb URL parameter pool must be a positive integer (got "${pool}")`);
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
    ...(pool === null ? {} : { poolSize: Number(pool) }),
  };
}

type Mysql = typeof import("mysql2/promise");

/** `mysql2` is an optional peer dependency, loaded only when a MariaDB/MySQL store is configured. */
async function loadMysql(): Promise<Mysql> {
  try {
    const loaded = (await import("mysql2/promise")) as Mysql & { default?: Mysql };
    return loaded.default ?? loaded;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error('the mariadb store needs the "mysql2" package: run `npm install mysql2`', { cause: error });
    }
    throw error;
  }
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
  const timeoutMs = resolveTimeout(options.timeoutMs);
  const prefix = assertPrefix(options.keyPrefix ?? parsed.prefix ?? DEFAULT_TABLE_PREFIX);
  const poolSize = options.poolSize ?? parsed.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000)
    throw new TypeError(`mariadb poolSize must be an integer from 1 to 1000 (got ${String(poolSize)})`);
  resolveStoreSecret("mariadb", options);
  const mysql = await loadMysql();
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
  if (
    pool === null ||
    typeof pool !== "object" ||
    typeof pool.getConnection !== "function" ||
    typeof pool.query !== "function"
  ) {
    throw new TypeError("createMariaDbStores needs a mysql2/promise Pool (an object with getConnection and query)");
  }
  const prefix = assertPrefix(options.keyPrefix ?? DEFAULT_TABLE_PREFIX);
  return assemble(new MariaDbDriver(pool, prefix, resolveTimeout(options.timeoutMs), async () => undefined), options);
}
