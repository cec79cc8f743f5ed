/** Every built-in store backend as a fresh URL per call, on this machine's test servers (Redis, PostgreSQL) and temp files. */
import { mkdtempSync, rmSync } from "node:fs";
import { afterAll } from "vitest";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropTables, MARIADB_URL, mariadbAvailable } from "../mariadb-helpers.js";
import { postgresAvailable, schemaNames } from "../postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "../redis-support.js";

export interface Backend {
  name: "memory" | "sqlite" | "redis" | "postgres" | "mariadb";
  /** false only locally when the server is missing (with CI=true the check throws instead). */
  available: boolean;
  /** Whether other processes can open the same URL (everything but memory:). */
  shared: boolean;
  freshUrl(): string;
  cleanup(): Promise<void>;
}

/** Memory, SQLite, Redis, PostgreSQL and MariaDB; a missing server is a failure when CI=true (checked by the helpers). */
export async function allBackends(): Promise<Backend[]> {
  const dir = mkdtempSync(join(tmpdir(), "gh-backends-"));
  let files = 0;
  const redisPrefix = uniquePrefix();
  let keyspaces = 0;
  const schemas = schemaNames();
  const [redis, postgres, mariadb] = await Promise.all([requireRedis(), postgresAvailable(), mariadbAvailable()]);
  const tablePrefix = `gh_b${uniquePrefix().slice(-8)}_`;
  let tableSets = 0;
  return [
    { name: "memory", available: true, shared: false, freshUrl: () => "memory:", cleanup: async () => undefined },
    {
      name: "sqlite",
      available: true,
      shared: true,
      freshUrl: () => `sqlite:${join(dir, `store-${++files}.db`)}`,
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    },
    {
      name: "redis",
      available: redis,
      shared: true,
      freshUrl: () => `${REDIS_URL}?prefix=${redisPrefix}-${++keyspaces}`,
      cleanup: async () => {
        if (redis) await deleteKeys(`${redisPrefix}-`);
      },
    },
    {
      name: "postgres",
      available: postgres,
      shared: true,
      freshUrl: schemas.nextUrl,
      cleanup: async () => {
        if (postgres) await schemas.drop();
      },
    },
    {
      name: "mariadb",
      available: mariadb,
      shared: true,
      freshUrl: () => `${MARIADB_URL}?prefix=${tablePrefix}${++tableSets}_`,
      cleanup: async () => {
        if (mariadb) await dropTables(tablePrefix);
      },
    },
  ];
}

/** allBackends() for one test file: every backend's data (files, keys, schemas, tables) is removed after its tests. */
export async function backendsOfThisFile(): Promise<Backend[]> {
  const backends = await allBackends();
  afterAll(async () => {
    for (const backend of backends) await backend.cleanup();
  });
  return backends;
}
