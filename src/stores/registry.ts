import type { OpenStoresOptions } from "./open-options.js";
import type { Stores } from "./types.js";

/** What a backend can do, stated once instead of probed for. */
export interface StoreCapabilities {
  /** Other processes and gateway instances see the same state (everything but memory). */
  shared: boolean;
  /** How other processes learn of decisions: none (one process), polling the log, or pushed by the server. */
  events: "none" | "poll" | "notify" | "stream";
  /** Keeps API tokens (Stores.tokens). */
  tokens: boolean;
}

/**
 * One backend: the URL schemes it answers to, the options it reads beyond the common ones (secret, clock, rules,
 * timeoutMs), its capabilities and how to open it. The module behind `open` is imported only when used, so a backend's
 * client library is needed only by those who configure it.
 */
export interface StoreBackend {
  name: Stores["backend"];
  /** Lower-case, with the colon: "redis:". */
  schemes: readonly string[];
  /** The URL's form, for messages and docs. */
  example: string;
  options: readonly Exclude<keyof OpenStoresOptions, "secret" | "secretSource" | "secretCheck" | "now" | "timeoutMs">[];
  capabilities: StoreCapabilities;
  open(url: string, options: OpenStoresOptions): Promise<Stores>;
}

const BACKENDS: readonly StoreBackend[] = [
  {
    name: "memory",
    schemes: ["memory:"],
    example: "memory:",
    options: ["sessionIdleTtlMs"],
    capabilities: { shared: false, events: "none", tokens: true },
    open: async (_url, options) =>
      (await import("./memory/index.js")).openMemoryStores(options, {
        now: options.now,
        idleTtlMs: options.sessionIdleTtlMs,
      }),
  },
  {
    name: "sqlite",
    schemes: ["sqlite:"],
    example: "sqlite:<path>",
    options: ["sessionIdleTtlMs", "dataDir"],
    capabilities: { shared: true, events: "poll", tokens: true },
    open: async (url, options) =>
      (await import("./sqlite/index.js")).openSqliteStores(url.slice("sqlite:".length), options),
  },
  {
    name: "redis",
    schemes: ["redis:", "rediss:", "redis+cluster:", "rediss+cluster:", "redis+sentinel:", "rediss+sentinel:"],
    example: "redis://host:port/db",
    options: ["sessionIdleTtlMs", "dataDir", "keyPrefix", "auditRetentionMs", "auditMaxLength", "waitReplicas"],
    capabilities: { shared: true, events: "stream", tokens: true },
    open: async (url, options) => (await import("./redis/index.js")).openRedisStores(url, options),
  },
  {
    name: "postgres",
    schemes: ["postgres:", "postgresql:"],
    example: "postgres://host:port/database",
    options: ["sessionIdleTtlMs", "dataDir", "schema", "poolSize"],
    capabilities: { shared: true, events: "notify", tokens: true },
    open: async (url, options) => (await import("./postgres/index.js")).openPostgresStores(url, options),
  },
  {
    name: "mariadb",
    schemes: ["mysql:", "mariadb:"],
    example: "mysql://host:port/database",
    options: ["sessionIdleTtlMs", "dataDir", "keyPrefix", "poolSize"],
    capabilities: { shared: true, events: "poll", tokens: true },
    open: async (url, options) => (await import("./mariadb/index.js")).openMariaDbStores(url, options),
  },
];

/** Every built-in backend, in the order they are documented. */
export function storeBackends(): readonly StoreBackend[] {
  return BACKENDS;
}

/** The URL forms every backend accepts, for messages. */
export const SUPPORTED_STORE_URLS: readonly string[] = BACKENDS.map((backend) => backend.example);

/** The backend a store URL names, or undefined. */
export function findStoreBackend(url: string): StoreBackend | undefined {
  const scheme = url.slice(0, url.indexOf(":") + 1).toLowerCase();
  return scheme === "" ? undefined : BACKENDS.find((backend) => backend.schemes.includes(scheme));
}

/** Why a store URL cannot be opened (empty, or a scheme no backend answers to), or null when a backend will take it. */
export function storeUrlProblem(url: unknown): string | null {
  if (typeof url !== "string" || url.trim() === "")
    return `store URL must be a non-empty string; supported: ${SUPPORTED_STORE_URLS.join(", ")}`;
  if (findStoreBackend(url)) return null;
  const scheme = url.slice(0, url.indexOf(":") + 1).toLowerCase();
  return `unsupported store URL scheme "${scheme || url}"; supported: ${SUPPORTED_STORE_URLS.join(", ")}`;
}
