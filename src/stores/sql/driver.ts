import { StoreUnavailableError } from "../../pairing/errors.js";
import { runWithDeadline, type CallDeadline } from "../deadline.js";
import type { SenderRef, Stores } from "../types.js";

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
  /**
   * `INSERT INTO t (cols) VALUES (?, ...)` that updates `update` when a row with the same `key` exists; `values` are
   * the SQL of each value (default: one `?` per column).
   */
  upsert(
    table: string,
    columns: readonly string[],
    key: readonly string[],
    update: readonly string[],
    values?: readonly string[],
  ): string;
  /** The same insert, doing nothing when a row with the same `key` exists. */
  insertIfAbsent(table: string, columns: readonly string[], key: readonly string[]): string;
  /** The key column of the name/value tables (meta, rate_budgets, seen_once): `key` is reserved in MySQL. */
  readonly keyColumn: string;
  /**
   * The `seq` of a new pending or paired row as SQL, run right after the row's audit event was appended, when the
   * column does not number itself (SQLite: that event's id); null when the database numbers it.
   */
  readonly seqValue: string | null;
  /**
   * Whether text that may hold U+0000 (a pending request's first message) is bound as UTF-8 bytes: PostgreSQL's text
   * cannot hold U+0000 (bytea), MariaDB keeps it in a LONGBLOB; SQLite's TEXT holds any string as it is.
   */
  readonly textAsBytes: boolean;
  /** What orders approvals created in the same millisecond (their insertion order where the table keeps one). */
  readonly approvalOrder: string;
}

/** A backend's own answer to isPaired/isPairedMany, the hot path (SQLite: one synchronous statement; PostgreSQL: batching). */
export interface PairedLookup {
  /** For a valid sender; rejects with the store's errors. */
  isPaired(channelId: string, channelType: string): Promise<boolean>;
  /** For valid senders, in their order. */
  many(senders: readonly SenderRef[]): Promise<boolean[]>;
}

/** One database for the SQL stores: statements on a pool, and transactions holding the store's write lock. */
export interface SqlDriver extends SqlExecutor {
  readonly backend: Stores["backend"];
  readonly dialect: SqlDialect;
  /** How long a store call may take; every call runs under runWithDeadline with it. */
  readonly timeoutMs: number;
  /**
   * Statements finish before they return (better-sqlite3): no timer could interrupt them, so calls skip it and only
   * check the deadline between steps.
   */
  readonly synchronous?: boolean;
  /**
   * A read answered at once when the driver can (SQLite outside a write turn): the first row, null, or undefined when it
   * cannot answer now and the caller should take the ordinary path. Failures are already mapped (see `failure`).
   */
  readNow?<T>(sql: string, params?: readonly unknown[]): T | null | undefined;
  /** Like readNow, for every row: the rows, or undefined when the caller should take the ordinary path. */
  allNow?<T>(sql: string, params?: readonly unknown[]): T[] | undefined;
  /**
   * Runs `work` in one transaction on one connection, holding the store-wide write lock until it has committed, so of
   * two processes changing pairing state one waits for the other (SQLite's BEGIN IMMEDIATE, for every SQL backend).
   * Every audit event is appended under it, so event ids are taken and committed in the same order and a reader
   * paging `id > last` never skips one that commits later. Commits unless `work` throws or the deadline has passed
   * (then it rolls back); retried on deadlock.
   */
  write<T>(work: (tx: SqlExecutor) => Promise<T>, deadline: CallDeadline): Promise<T>;
  /**
   * Tells other processes, inside the transaction that appended audit events, that events follow when it commits
   * (PostgreSQL: NOTIFY); without it they find them by polling.
   */
  announce?(tx: SqlExecutor): Promise<void>;
  /**
   * Calls `wake` whenever another process may have committed audit events (and after each (re)connect); `ready`
   * settles once the first attempt to listen has, and `stop()` gives up the connection at once.
   */
  listen?(wake: () => void): { ready: Promise<void>; stop(): void };
  /** Maps a driver failure to StoreUnavailableError; answers (domain errors) pass through. */
  failure(error: unknown): unknown;
  close(): Promise<void>;
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * A deadline without a timer, for synchronous drivers: steps check the clock. A class, so a call allocates one small
 * object and no closures.
 */
class ClockDeadline implements CallDeadline {
  readonly signal = NEVER_ABORTED;
  private readonly endsAt: number;

  constructor(
    private readonly store: string,
    private readonly timeoutMs: number,
  ) {
    this.endsAt = Date.now() + timeoutMs;
  }

  passed(): boolean {
    return Date.now() >= this.endsAt;
  }

  check(): void {
    if (this.passed())
      throw new StoreUnavailableError(this.store, { cause: new Error(`no answer within ${this.timeoutMs} ms`) });
  }
}

/** One store call on `driver` under its deadline; failures of the database become StoreUnavailableError. */
export async function sqlCall<T>(driver: SqlDriver, work: (deadline: CallDeadline) => Promise<T>): Promise<T> {
  try {
    if (driver.synchronous) return await work(new ClockDeadline(driver.backend, driver.timeoutMs));
    return await runWithDeadline(driver.backend, driver.timeoutMs, work);
  } catch (error) {
    throw driver.failure(error);
  }
}
