import type BetterSqlite3 from "better-sqlite3";
import { GATEHOUSE_APPLICATION_ID, MIGRATIONS, type Migration } from "./schema.js";

type Database = BetterSqlite3.Database;

/** The schema version recorded in the database file (`PRAGMA user_version`), 0 for a new file. */
export function schemaVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

function applicationId(db: Database): number {
  return db.pragma("application_id", { simple: true }) as number;
}

/**
 * Read-only check before anything writes to the file (not even the switch to WAL): throws, leaving the file as it was,
 * when it is another program's SQLite database or was written by a newer gatehouse.
 */
export function assertOurs(db: Database, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  // One read transaction, so the marks and the table list come from one snapshot: read one by one, another process's
  // first migration could commit in between, and its tables would look like someone else's.
  db.transaction(() => {
    const version = assertKnown(db, file, latestVersion(migrations));
    if (version === 0) assertNoForeignTables(db, file);
  }).deferred();
}

function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * Brings the database up to the newest migration. Each step runs in one `BEGIN IMMEDIATE` transaction that re-reads
 * the version first, so several processes opening a new file together apply every step exactly once.
 * Refuses (throws, changing nothing) a file written by a newer gatehouse, or an SQLite file that is not ours.
 */
export function migrate(db: Database, file: string, migrations: readonly Migration[] = MIGRATIONS): number {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, index) => {
    if (m.version !== index + 1)
      throw new Error(`sqlite migrations must be numbered 1, 2, 3, …; found ${m.version} at position ${index + 1}`);
  });
  const latest = latestVersion(ordered);
  assertKnown(db, file, latest);
  for (const migration of ordered) {
    db.transaction(() => {
      const current = assertKnown(db, file, latest);
      if (current >= migration.version) return;
      if (current === 0) {
        assertNoForeignTables(db, file);
        db.pragma(`application_id = ${GATEHOUSE_APPLICATION_ID}`);
      }
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return schemaVersion(db);
}

/** Throws when the file is not a gatehouse database or is newer than this code; returns its version. */
function assertKnown(db: Database, file: string, latest: number): number {
  const id = applicationId(db);
  if (id !== 0 && id !== GATEHOUSE_APPLICATION_ID) {
    throw new Error(`sqlite store ${file} is not a gatehouse database (application_id ${id}); refusing to use it`);
  }
  const version = schemaVersion(db);
  if (version > latest) {
    throw new Error(
      `sqlite store ${file} has schema version ${version}, newer than this gatehouse understands (${latest}); ` +
        "upgrade gatehouse or point it at another database",
    );
  }
  if (version > 0 && id !== GATEHOUSE_APPLICATION_ID) {
    throw new Error(
      `sqlite store ${file} has schema version ${version} but is not marked as a gatehouse database; refusing to use it`,
    );
  }
  return version;
}

function assertNoForeignTables(db: Database, file: string): void {
  const count = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").pluck().get() as number;
  if (count > 0) {
    throw new Error(`sqlite store ${file} already holds tables that gatehouse did not create; refusing to use it`);
  }
}
