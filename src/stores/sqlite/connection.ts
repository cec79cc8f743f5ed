import { chmodSync, existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { assertWritableFile, ensureWritableDir } from "../../pairing/data-dir.js";
import { StoreUnavailableError } from "../../pairing/errors.js";
import { assertOurs, migrate, schemaVersion } from "./migrations.js";
import type { Migration } from "./schema.js";

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Pages the WAL may hold before a commit checkpoints it into the database file (SQLite's default: 1000). Each
 * checkpoint syncs the WAL and the file, a stall of milliseconds on a busy disk; at 1000 pages one came every ~90
 * approvals. Ten times fewer checkpoints, each writing a hot page (pending, audit) once for many commits, is what kept
 * approve throughput up when the disk was shared (measured: ~1.5-2x under load). Durability is unchanged.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/**
 * Page cache of each connection, KiB (SQLite's default: 2000). Holds the paired and sessions b-trees of ~100k senders
 * (about 17 MB), so isPaired and lookup stop copying pages in from the OS; filled only as pages are read. Emptied
 * whenever another process commits (SQLite's rule), so a revoke elsewhere is seen on the next call.
 */
export const PAGE_CACHE_KIB = 32 * 1024;
/** After a checkpoint resets the WAL, the file is cut back to this many bytes, so a bulk write does not leave it huge. */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface SqliteConnectionOptions {
  /** How long a statement waits for another process's write lock before failing; milliseconds. */
  busyTimeoutMs?: number;
  /** For tests of the migration runner; defaults to the real schema. */
  migrations?: readonly Migration[];
}

/**
 * One better-sqlite3 connection shared by the pairing and session stores of one `openStores()` call; the file is
 * closed when the last store using it closes.
 */
export class SqliteConnection {
  private users = 0;
  private readonly ping: Database.Statement;

  private constructor(
    readonly db: Database.Database,
    readonly file: string,
  ) {
    this.ping = db.prepare("SELECT 1");
  }

  /**
   * Opens (creating it and its folder when missing) and checks the database: a corrupt or unreadable file, a file
   * that is not a gatehouse database, or one newer than this code is an error here, and the file is left as it was.
   */
  static open(path: string, options: SqliteConnectionOptions = {}): SqliteConnection {
    const file = resolve(path);
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new TypeError("sqlite busyTimeoutMs must be a non-negative integer");
    }
    // A read-only or unusable folder is named as such here, before SQLite can report it as an unreadable database.
    ensureWritableDir(dirname(file), "sqlite store folder");
    const isNew = !existsSync(file);
    if (!isNew) assertWritableFile(file, "sqlite store");
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: busyTimeoutMs });
    } catch (error) {
      throw new Error(`sqlite store ${file} cannot be opened: ${(error as Error).message}`, { cause: error });
    }
    try {
      // Pairings and sessions are nobody else's business; SQLite gives the -wal and -shm files the same mode.
      if (isNew) chmodSync(file, 0o600);
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      assertIntact(db, file);
      assertOurs(db, file, options.migrations);
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") throw new Error(`sqlite store ${file} could not switch to WAL mode (got ${String(mode)})`);
      // WAL + NORMAL: a commit survives a crash of the process; only a power loss may drop the last commits.
      db.pragma("synchronous = NORMAL");
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      db.pragma("foreign_keys = ON");
      migrate(db, file, options.migrations);
      recordPageCountInWal(db);
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteConnection(db, file);
  }

  /** Resolves when the file answers `SELECT 1`; rejects with StoreUnavailableError otherwise (or when `what` is closed). */
  health(what: string, closed: boolean): void {
    if (closed) throw new StoreUnavailableError("sqlite", { cause: new Error(`sqlite ${what} is closed`) });
    try {
      this.ping.get();
    } catch (error) {
      throw new StoreUnavailableError("sqlite", { cause: error });
    }
  }

  acquire(): this {
    this.users += 1;
    return this;
  }

  release(): void {
    this.users -= 1;
    if (this.users <= 0) this.destroy();
  }

  /** Closes the file now, whoever still uses it (for a failed open). */
  destroy(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Until a commit has gone through the write-ahead log since it was (re)created, SQLite knows the database's size only
 * from the file, so every read transaction costs an extra fstat() system call (about 10% of an isPaired). A gateway
 * that opens a cleanly closed file and then only reads would pay it on every message; one commit at open (the schema
 * version written again, unchanged) puts the page count into the log's header for as long as the file stays open.
 */
function recordPageCountInWal(db: Database.Database): void {
  db.pragma(`user_version = ${schemaVersion(db)}`);
}

/** Runs PRAGMA quick_check before anything writes, so a damaged file is refused rather than read as empty. */
function assertIntact(db: Database.Database, file: string): void {
  let problems: string[];
  try {
    problems = (db.pragma("quick_check") as Array<{ quick_check: string }>).map((row) => row.quick_check);
  } catch (error) {
    throw new Error(
      `sqlite store ${file} is corrupt or unreadable (${(error as Error).message}); it was left unchanged: ` +
        "restore it from a backup or move it away",
      { cause: error },
    );
  }
  if (problems.length !== 1 || problems[0] !== "ok") {
    throw new Error(
      `sqlite store ${file} failed its integrity check (${problems.slice(0, 3).join("; ")}); it was left unchanged: ` +
        "restore it from a backup or move it away",
    );
  }
}

/** Runs one store operation; SQLite failures (locked past the busy timeout, I/O errors, corruption) become StoreUnavailableError. */
export function guard<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw unavailableIfSqlite(error);
  }
}

/** What a failed SQLite call throws: a StoreUnavailableError for an error of SQLite's, anything else as it was. */
export function unavailableIfSqlite(error: unknown): unknown {
  return error instanceof Database.SqliteError ? new StoreUnavailableError("sqlite", { cause: error }) : error;
}

/** Answers of hot read paths, settled once: an already-resolved promise is shared instead of made per call. */
export const SETTLED_TRUE: Promise<boolean> = Promise.resolve(true);
export const SETTLED_FALSE: Promise<boolean> = Promise.resolve(false);
