import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStores, type OpenStoresOptions } from "../../src/stores/open.js";
import type { Stores } from "../../src/stores/types.js";
import { BENCH, type Population } from "./dataset.js";
import { dropMariaDbTables, seedMariaDb } from "./seed-mariadb.js";
import { seedMemory } from "./seed-memory.js";
import { seedPostgres, dropPostgresSchema } from "./seed-postgres.js";
import { seedRedis, dropRedisPrefix } from "./seed-redis.js";
import { seedSqlite } from "./seed-sqlite.js";

export const BACKENDS = ["memory", "sqlite", "redis", "postgres", "mariadb"] as const;
export type BackendName = (typeof BACKENDS)[number];

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/0";
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const MARIADB_URL = process.env.BENCH_MARIADB_URL ?? "mysql://root@127.0.0.1:3306/test";

/** A freshly opened, namespaced store of one backend, with the means to fill it in bulk and to remove every trace. */
export interface BenchBackend {
  name: BackendName;
  /** The URL another process (the gateway under load) can open to see the same data. */
  url: string;
  secret: Buffer;
  stores: Stores;
  /** Writes paired senders and their sessions [from, to) straight into the backend's tables/keys, in batches. */
  seed(from: number, to: number, people?: Population): Promise<void>;
  /** Closes the stores and deletes the file, keys or schema. */
  dispose(): Promise<void>;
}

export type Opened = BenchBackend | { skipped: string };

interface Namespace {
  url: string;
  seed(stores: Stores, people: Population, from: number, to: number): Promise<void>;
  remove(): Promise<void>;
}

function namespaceFor(name: BackendName): Namespace {
  const tag = randomBytes(4).toString("hex");
  switch (name) {
    case "memory":
      return {
        url: "memory:",
        seed: async (stores, people, from, to) => seedMemory(stores, people, from, to),
        remove: async () => undefined,
      };
    case "sqlite": {
      const dir = mkdtempSync(join(tmpdir(), "gh-bench-"));
      const file = join(dir, "bench.db");
      return {
        url: `sqlite:${file}`,
        seed: async (_stores, people, from, to) => seedSqlite(file, people, from, to),
        remove: async () => rmSync(dir, { recursive: true, force: true }),
      };
    }
    case "redis": {
      const prefix = `gh-bench-${tag}`;
      return {
        url: `${REDIS_URL}?prefix=${prefix}`,
        seed: async (_stores, people, from, to) => seedRedis(REDIS_URL, `${prefix}:`, people, from, to),
        remove: async () => dropRedisPrefix(REDIS_URL, `${prefix}:`),
      };
    }
    case "postgres": {
      const schema = `gh_bench_${tag}`;
      return {
        url: `${POSTGRES_URL}?schema=${schema}`,
        seed: async (_stores, people, from, to) => seedPostgres(POSTGRES_URL, schema, people, from, to),
        remove: async () => dropPostgresSchema(POSTGRES_URL, schema),
      };
    }
    case "mariadb": {
      const prefix = `gh_bench_${tag}_`;
      return {
        url: `${MARIADB_URL}?prefix=${prefix}`,
        seed: async (_stores, people, from, to) => seedMariaDb(MARIADB_URL, prefix, people, from, to),
        remove: async () => dropMariaDbTables(MARIADB_URL, prefix),
      };
    }
  }
}

/**
 * Opens one backend in a fresh namespace (tmp SQLite file, Redis key prefix, PostgreSQL schema, MariaDB table prefix). A backend whose module
 * is still a placeholder is `{ skipped: "not built" }`; a server that does not answer is `{ skipped: "unavailable: …" }`.
 */
export async function openBackend(name: BackendName, options: OpenStoresOptions = {}): Promise<Opened> {
  const namespace = namespaceFor(name);
  const secret = randomBytes(32);
  let stores: Stores;
  try {
    stores = await openStores(namespace.url, { secret, ...options });
  } catch (error) {
    await namespace.remove().catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    if (/not built/i.test(message)) return { skipped: "not built" };
    return { skipped: `unavailable: ${message}` };
  }
  let disposed = false;
  return {
    name,
    url: namespace.url,
    secret,
    stores,
    seed: (from, to, people = BENCH) => namespace.seed(stores, people, from, to),
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      await stores.close().catch(() => undefined);
      await namespace.remove();
    },
  };
}

export function isSkipped(opened: Opened): opened is { skipped: string } {
  return "skipped" in opened;
}
