import type { PairingStoreOptions, Stores } from "./types.js";
import { openMemoryStores } from "./memory/index.js";
import type { StoreSecretOptions } from "./store-secret.js";

export interface OpenStoresOptions extends PairingStoreOptions, StoreSecretOptions {
  /** Idle TTL for session bindings, milliseconds. */
  sessionIdleTtlMs?: number;
  /** Redis/PostgreSQL: keys or tables are namespaced by this prefix so several gateways can share a server. */
  keyPrefix?: string;
  /** PostgreSQL: the schema to create tables in. */
  schema?: string;
  /** PostgreSQL: pool size. */
  poolSize?: number;
  /** How long any store call may take before it fails (closed); milliseconds. */
  timeoutMs?: number;
}

export const SUPPORTED_STORE_URLS = ["memory:", "sqlite:<path>", "redis://host:port/db", "postgres://host:port/database"];

/** Opens the pairing and session stores named by a URL: `memory:`, `sqlite:./path.db`, `redis://…`, `postgres://…`. */
export async function openStores(url: string, options: OpenStoresOptions = {}): Promise<Stores> {
  if (typeof url !== "string" || url.trim() === "") {
    throw new TypeError(`store URL must be a non-empty string; supported: ${SUPPORTED_STORE_URLS.join(", ")}`);
  }
  const scheme = url.slice(0, url.indexOf(":") + 1).toLowerCase();
  const sessionOptions = { now: options.now, idleTtlMs: options.sessionIdleTtlMs };
  switch (scheme) {
    case "memory:":
      return openMemoryStores(options, sessionOptions);
    case "sqlite:": {
      const { openSqliteStores } = await import("./sqlite/index.js");
      return openSqliteStores(url.slice("sqlite:".length), options);
    }
    case "redis:":
    case "rediss:": {
      const { openRedisStores } = await import("./redis/index.js");
      return openRedisStores(url, options);
    }
    case "postgres:":
    case "postgresql:": {
      const { openPostgresStores } = await import("./postgres/index.js");
      return openPostgresStores(url, options);
    }
    default:
      throw new TypeError(
        `unsupported store URL scheme "${scheme || url}"; supported: ${SUPPORTED_STORE_URLS.join(", ")}`,
      );
  }
}
