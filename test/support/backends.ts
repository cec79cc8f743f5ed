/** Every built-in store backend as a fresh URL per call, on this machine's test servers (Redis, PostgreSQL) and temp files. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresAvailable, schemaNames } from "../postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "../redis-support.js";

export interface Backend {
  name: "memory" | "sqlite" | "redis" | "postgres";
  /** false only locally when the server is missing (with CI=true the check throws instead). */
  available: boolean;
  /** Whether other processes can open the same URL (everything but memory:). */
  shared: boolean;
  freshUrl(): string;
  cleanup(): Promise<void>;
}

/** Memory, SQLite, Redis and PostgreSQL; a missing server is a failure when CI=true (checked by the helpers). */
export async function allBackends(): Promise<Backend[]> {
  const dir = mkdtempSync(join(tmpdir(), "gh-backends-"));
  let files = 0;
  const redisPrefix = uniquePrefix();
  let keyspaces = 0;
  const schemas = schemaNames();
  const [redis, postgres] = await Promise.all([requireRedis(), postgresAvailable()]);
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
  ];
}
