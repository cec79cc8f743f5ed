import type { SqlExecutor } from "./driver.js";

/** One numbered step of an SQL backend's schema. Never edit a released one: append a new one. */
export interface NumberedMigration {
  version: number;
  description: string;
}

/**
 * Applies, in order, the migrations that `table` (the backend's schema_migrations: version, description) has not
 * recorded, and records each; refuses (`tooNew`) tables migrated by a newer gatehouse, before changing anything. The
 * caller holds the backend's migration lock, so two instances starting at once never both migrate.
 */
export async function applyMissingMigrations<M extends NumberedMigration>(
  sql: SqlExecutor,
  table: string,
  migrations: readonly M[],
  apply: (migration: M) => Promise<unknown>,
  tooNew: (newest: number, latest: number) => Error,
): Promise<void> {
  const rows = await sql.all<{ version: unknown }>(`SELECT version FROM ${table}`);
  const done = new Set(rows.map((row) => Number(row.version)));
  const newest = Math.max(0, ...done);
  const latest = migrations.at(-1)?.version ?? 0;
  if (newest > latest) throw tooNew(newest, latest);
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    await apply(migration);
    await sql.execute(`INSERT INTO ${table} (version, description) VALUES (?, ?)`, [
      migration.version,
      migration.description,
    ]);
  }
}
