import { runWithDeadline, type CallDeadline } from "../deadline.js";

/**
 * The seam between the SQL stores (src/stores/sql/) and one database client: three methods, like Lucia v3's SQL
 * controllers. SQL is written once with `?` placeholders and portable statements; a driver adapts the rest.
 */
export interface SqlExecutor {
  /** Runs a statement; resolves with the number of rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /** The first row, or null. */
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | null>;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** What differs between SQL dialects in the statements the stores write. */
export interface SqlDialect {
  /** A table name, quoted and namespaced (schema, or table prefix). */
  table(name: string): string;
  /** `INSERT INTO t (cols) VALUES (?, ...)` that updates `update` when a row with the same `key` exists. */
  upsert(table: string, columns: readonly string[], key: readonly string[], update: readonly string[]): string;
  /** The same insert, doing nothing when a row with the same `key` exists. */
  insertIfAbsent(table: string, columns: readonly string[], key: readonly string[]): string;
}

/** One database for the SQL stores: statements on a pool, and transactions holding the store's write lock. */
export interface SqlDriver extends SqlExecutor {
  readonly backend: string;
  readonly dialect: SqlDialect;
  /** How long a store call may take; every call runs under runWithDeadline with it. */
  readonly timeoutMs: number;
  /**
   * Runs `work` in one transaction on one connection, holding the store-wide write lock until it ends, so of two
   * processes changing pairing state one waits for the other (SQLite's BEGIN IMMEDIATE, for every SQL backend).
   * Commits unless `work` throws or the deadline has passed (then it rolls back); retried on deadlock.
   */
  write<T>(work: (tx: SqlExecutor) => Promise<T>, deadline: CallDeadline): Promise<T>;
  /** Maps a driver failure to StoreUnavailableError; answers (domain errors) pass through. */
  failure(error: unknown): unknown;
  close(): Promise<void>;
}

/** One store call on `driver` under its deadline; failures of the database become StoreUnavailableError. */
export async function sqlCall<T>(driver: SqlDriver, work: (deadline: CallDeadline) => Promise<T>): Promise<T> {
  try {
    return await runWithDeadline(driver.backend, driver.timeoutMs, work);
  } catch (error) {
    throw driver.failure(error);
  }
}
