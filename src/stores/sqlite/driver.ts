import type BetterSqlite3 from "better-sqlite3";
import {
  CodeGenerationError,
  PairingInputError,
  SecretMismatchError,
  StoreUnavailableError,
} from "../../pairing/errors.js";
import type { CallDeadline } from "../deadline.js";
import type { PairedLookup, SqlDialect, SqlDriver, SqlExecutor } from "../sql/driver.js";
import type { SenderRef } from "../types.js";
import { SETTLED_FALSE, SETTLED_TRUE, type SqliteConnection, unavailableIfSqlite } from "./connection.js";

const upsertSql =
  (verb: string) => (table: string, columns: readonly string[], key: readonly string[], values: readonly string[]) =>
    `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${values.join(", ")}) ON CONFLICT (${key.join(", ")}) ${verb}`;

/** SQLite's statements for the SQL stores: tables as created by schema.ts, `seq` numbered by the audit event's id. */
export const SQLITE_DIALECT: SqlDialect = {
  table: (name) => `"${name}"`,
  upsert: (table, columns, key, update, values = columns.map(() => "?")) =>
    upsertSql(`DO UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(", ")}`)(table, columns, key, values),
  insertIfAbsent: (table, columns, key) =>
    upsertSql("DO NOTHING")(
      table,
      columns,
      key,
      columns.map(() => "?"),
    ),
  keyColumn: "key",
  // coalesce: restored pairings (gatehouse import) are written with no audit event of their own, maybe into an empty log.
  seqValue: `(SELECT coalesce(max(id), 0) FROM "audit")`,
  textAsBytes: false,
  approvalOrder: "rowid",
};

/** Answers, not failures of the store. */
const isAnswer = (error: unknown): boolean =>
  [StoreUnavailableError, CodeGenerationError, PairingInputError, SecretMismatchError].some(
    (type) => error instanceof type,
  );

/** better-sqlite3 binds null, never undefined. */
const bind = (params: readonly unknown[] = []): unknown[] => params.map((value) => value ?? null);

/**
 * Whose turn it is on one file in this process: `open` is set while one's transaction is open, and the calls waiting
 * for it queue in `waiting`, first come first served; the turn passes straight to the next one, so none jumps the queue.
 */
interface FileTurn {
  open: boolean;
  waiting: (() => void)[];
}

/**
 * Per file, not per connection: a transaction spans awaits, and while one connection of this process holds the file's
 * write lock another connection's BEGIN (or autocommit write) would wait for it synchronously, blocking the very
 * event loop that has to finish the first. A few bytes per file path ever opened.
 */
const turns = new Map<string, FileTurn>();

/**
 * The SQL stores' driver on one better-sqlite3 connection. Statements are synchronous and prepared once. A write is
 * one BEGIN IMMEDIATE transaction (the file's write lock, across processes); within this process writes to the file
 * take turns, and a statement asked for while one is open waits for it, so nothing reads or joins another call's
 * uncommitted work and no connection busy-waits for a lock this process holds.
 */
export class SqliteDriver implements SqlDriver {
  readonly backend = "sqlite";
  readonly dialect = SQLITE_DIALECT;
  readonly synchronous = true;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly turn: FileTurn;
  private readonly begin: BetterSqlite3.Statement;
  private readonly commit: BetterSqlite3.Statement;
  private readonly rollback: BetterSqlite3.Statement;
  /** Statements inside the open transaction. */
  private readonly tx: SqlExecutor;

  constructor(
    readonly connection: SqliteConnection,
    readonly timeoutMs: number,
  ) {
    const turn = turns.get(connection.file) ?? { open: false, waiting: [] };
    turns.set(connection.file, turn);
    this.turn = turn;
    this.begin = connection.db.prepare("BEGIN IMMEDIATE");
    this.commit = connection.db.prepare("COMMIT");
    this.rollback = connection.db.prepare("ROLLBACK");
    this.tx = {
      execute: async (sql, params) => this.statement(sql).run(...bind(params)).changes,
      get: async <T>(sql: string, params?: readonly unknown[]) =>
        (this.statement(sql).get(...bind(params)) as T | undefined) ?? null,
      all: async <T>(sql: string, params?: readonly unknown[]) => this.statement(sql).all(...bind(params)) as T[],
    };
  }

  execute(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.outside(() => this.tx.execute(sql, params));
  }

  get<T>(sql: string, params?: readonly unknown[]): Promise<T | null> {
    return this.outside(() => this.tx.get<T>(sql, params));
  }

  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.outside(() => this.tx.all<T>(sql, params));
  }

  async write<T>(work: (tx: SqlExecutor) => Promise<T>, deadline: CallDeadline): Promise<T> {
    // Awaited even when the turn is free, so BEGIN comes a microtask after the call, as it always has: begun in the
    // caller's own tick, a second gateway opening the same file in this process met the lock (webchat-device-legacy).
    await this.takeTurn();
    try {
      deadline.check();
      this.begin.run();
      try {
        const result = await work(this.tx);
        deadline.check();
        this.commit.run();
        return result;
      } catch (error) {
        if (this.connection.db.inTransaction) this.rollback.run();
        throw error;
      }
    } finally {
      this.passTurn();
    }
  }

  readNow<T>(sql: string, params?: readonly unknown[]): T | null | undefined {
    if (this.turn.open) return undefined;
    try {
      return (this.statement(sql).get(...bind(params)) as T | undefined) ?? null;
    } catch (error) {
      throw this.failure(error);
    }
  }

  allNow<T>(sql: string, params?: readonly unknown[]): T[] | undefined {
    if (this.turn.open) return undefined;
    try {
      return this.statement(sql).all(...bind(params)) as T[];
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** isPaired on the hot path: one prepared primary-key probe, answered with an already-settled promise. */
  pairedLookup(): PairedLookup {
    const probe = this.connection.db.prepare(`SELECT 1 FROM paired WHERE channel_type = ? AND channel_id = ?`).pluck();
    const paired = (s: SenderRef): boolean => probe.get(s.channelType, s.channelId) !== undefined;
    // One read transaction for a round of senders: SQLite takes and drops its shared-memory read lock once, not per
    // sender. Made once: better-sqlite3's transaction() builds its wrappers on every call.
    const readMany = this.connection.db.transaction((senders: readonly SenderRef[]) => senders.map(paired));
    const ask = <T>(answer: () => T): Promise<T> => {
      if (this.turn.open) return this.outside(async () => answer());
      try {
        return Promise.resolve(answer());
      } catch (error) {
        return Promise.reject(this.failure(error));
      }
    };
    return {
      isPaired: (channelId, channelType) => {
        if (this.turn.open) return this.outside(async () => paired({ channelId, channelType }));
        try {
          return probe.get(channelType, channelId) === undefined ? SETTLED_FALSE : SETTLED_TRUE;
        } catch (error) {
          return Promise.reject(this.failure(error));
        }
      },
      many: (senders) => ask(() => readMany(senders)),
    };
  }

  failure(error: unknown): unknown {
    return isAnswer(error) ? error : unavailableIfSqlite(error);
  }

  async close(): Promise<void> {
    this.connection.release();
  }

  private statement(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.connection.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** A statement outside any transaction: at once, unless this process has one open (then after it). */
  private outside<T>(run: () => Promise<T>): Promise<T> {
    return this.turn.open ? this.exclusive(run) : run();
  }

  /**
   * Runs `work` when the turns queued before it on this file are done, marking the file as in a transaction meanwhile.
   * With nobody in the way (the usual case) it starts at once, without a promise to wait on.
   */
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    await this.takeTurn();
    try {
      return await work();
    } finally {
      this.passTurn();
    }
  }

  /** The file's turn: at once (undefined, nothing to wait on) when it is free, else when the calls before have passed it on. */
  private takeTurn(): Promise<void> | undefined {
    const turn = this.turn;
    if (!turn.open) {
      turn.open = true;
      return undefined;
    }
    return new Promise<void>((resolve) => turn.waiting.push(resolve));
  }

  /** Hands the turn to the next call waiting for it, or frees it. */
  private passTurn(): void {
    const next = this.turn.waiting.shift();
    if (next) next();
    else this.turn.open = false;
  }
}
