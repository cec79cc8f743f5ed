import type { OpenStoresOptions } from "./open-options.js";
import type { Stores } from "./types.js";
import { openMemoryStores } from "./memory/index.js";

export type { OpenStoresOptions } from "./open-options.js";

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
