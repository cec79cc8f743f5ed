import { resolveAuditRetention, type AuditRetention } from "./audit-retention.js";
import { DEFAULT_KEY_PREFIX, hashTaggedPrefix, normalizePrefix } from "./keys.js";

/** A host and port of a Redis node or Sentinel. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

interface Common {
  prefix: string;
  retention: AuditRetention;
  /** Replicas that must acknowledge a pairing decision (WAIT) before it is reported done; 0 waits for none. */
  waitReplicas: number;
}

/** What a store URL points at, with our own query parameters taken out. */
export type RedisTarget =
  | (Common & { mode: "single"; url: string })
  | (Common & { mode: "cluster"; nodes: RedisNodeAddress[]; username?: string; password?: string; tls: boolean })
  | (Common & {
      mode: "sentinel";
      sentinels: RedisNodeAddress[];
      masterName: string;
      username?: string;
      password?: string;
      database: number;
      tls: boolean;
    });

export interface TargetOptions {
  keyPrefix?: string;
  auditRetentionMs?: unknown;
  auditMaxLength?: unknown;
  waitReplicas?: unknown;
}

const MULTI_HOST = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^@/?#]*)@)?([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/i;

/** `?prefix=` or `options.keyPrefix`; when both are given they must agree. Removes it from `params`. */
function prefixOf(params: URLSearchParams, keyPrefix: string | undefined): string {
  const fromUrl = params.get("prefix");
  params.delete("prefix");
  if (
    fromUrl !== null &&
    keyPrefix !== undefined &&
    normalizePrefix(fromUrl, "?prefix") !== normalizePrefix(keyPrefix)
  ) {
    throw new TypeError("redis key prefix given twice and differently: in the URL (?prefix=) and as keyPrefix");
  }
  if (fromUrl !== null) return normalizePrefix(fromUrl, "?prefix");
  return normalizePrefix(keyPrefix ?? DEFAULT_KEY_PREFIX);
}

const MAX_WAIT_REPLICAS = 99;

/**
 * `?waitReplicas=` (removed from `params`) and/or `options.waitReplicas`; when both are given they must agree.
 * `fallback` when neither is: 1 for Sentinel and Cluster, 0 for one server and for a client the user passes in.
 */
export function waitReplicasOf(params: URLSearchParams, option: unknown, fallback: number): number {
  const text = params.get("waitReplicas");
  params.delete("waitReplicas");
  if (text !== null && !/^\d{1,2}$/.test(text))
    throw new TypeError("redis ?waitReplicas= must be a whole number of replicas (0 waits for none)");
  if (
    option !== undefined &&
    (typeof option !== "number" || !Number.isInteger(option) || option < 0 || option > MAX_WAIT_REPLICAS)
  )
    throw new TypeError(`redis waitReplicas must be a whole number of replicas from 0 to ${MAX_WAIT_REPLICAS}`);
  const fromUrl = text === null ? undefined : Number(text);
  if (fromUrl !== undefined && option !== undefined && fromUrl !== option)
    throw new TypeError(
      "redis waitReplicas given twice and differently: in the URL (?waitReplicas=) and as waitReplicas",
    );
  return fromUrl ?? (option as number | undefined) ?? fallback;
}

function addresses(list: string, defaultPort: number): RedisNodeAddress[] {
  return list.split(",").map((item) => {
    let parsed: URL;
    try {
      parsed = new URL(`redis://${item.trim()}`);
    } catch {
      throw new TypeError(`redis store URL: "${item.slice(0, 80)}" is not a host:port`);
    }
    if (parsed.hostname === "" || parsed.username || parsed.pathname !== "")
      throw new TypeError(`redis store URL: "${item.slice(0, 80)}" is not a host:port`);
    return {
      host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: parsed.port === "" ? defaultPort : Number(parsed.port),
    };
  });
}

function credentials(userinfo: string | undefined): { username?: string; password?: string } {
  if (!userinfo) return {};
  const colon = userinfo.indexOf(":");
  const user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  return { ...(user ? { username: user } : {}), ...(password !== undefined ? { password } : {}) };
}

/**
 * Reads a Redis store URL:
 *  - `redis://[user:password@]host:port/db` (`rediss://` for TLS): one server;
 *  - `redis+cluster://[user:password@]host:port,host:port`: a Redis Cluster (any reachable nodes; the rest are found);
 *  - `redis+sentinel://[user:password@]host:port,host:port/db?name=mymaster`: the master Sentinels know as `name`
 *    (the credentials are the data nodes'; `rediss+…` for TLS).
 * Each may carry `?prefix=`, `?auditRetention=` (7d), `?auditMaxLength=` and `?waitReplicas=` (Sentinel and Cluster
 * default to 1, one server to 0), or the same as options (`keyPrefix`, `auditRetentionMs`, `auditMaxLength`,
 * `waitReplicas`; given both ways they must agree). A cluster's prefix is wrapped in a hash tag (`{gatehouse}:`) so every key of one
 * store is in one slot and the Lua scripts stay atomic.
 */
export function parseRedisTarget(url: string, options: TargetOptions = {}): RedisTarget {
  const multi = MULTI_HOST.exec(url);
  if (!multi) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError("redis store URL is not a valid URL (expected redis://host:port/db)");
    }
    const prefix = prefixOf(parsed.searchParams, options.keyPrefix);
    const retention = resolveAuditRetention(parsed.searchParams, options);
    const waitReplicas = waitReplicasOf(parsed.searchParams, options.waitReplicas, 0);
    return { mode: "single", url: parsed.toString(), prefix, retention, waitReplicas };
  }
  const [, scheme = "redis", mode = "", userinfo, hosts = "", path = "", query = ""] = multi;
  const params = new URLSearchParams(query);
  const prefix = prefixOf(params, options.keyPrefix);
  const retention = resolveAuditRetention(params, options);
  const waitReplicas = waitReplicasOf(params, options.waitReplicas, 1);
  const tls = scheme.toLowerCase() === "rediss";
  const nodes = addresses(hosts, mode.toLowerCase() === "sentinel" ? 26379 : 6379);
  const common = { retention, waitReplicas, tls, ...credentials(userinfo) };
  if (mode.toLowerCase() === "cluster") {
    if (path !== "" && path !== "/")
      throw new TypeError("redis+cluster:// URLs have no database number (a cluster has only db 0)");
    refuseLeftovers(params);
    return { mode: "cluster", nodes, prefix: hashTaggedPrefix(prefix), ...common };
  }
  const masterName = params.get("name");
  params.delete("name");
  if (!masterName)
    throw new TypeError("redis+sentinel:// URLs need ?name=<master name> (the name the Sentinels monitor)");
  const database = path === "" || path === "/" ? 0 : Number(path.slice(1));
  if (!Number.isInteger(database) || database < 0)
    throw new TypeError("redis+sentinel:// database must be a whole number (…/0)");
  refuseLeftovers(params);
  return { mode: "sentinel", sentinels: nodes, masterName, database, prefix, ...common };
}

function refuseLeftovers(params: URLSearchParams): void {
  const names = [...params.keys()];
  if (names.length > 0) {
    throw new TypeError(
      `redis store URL: unknown parameter ?${names[0]}= (known: prefix, auditRetention, auditMaxLength, waitReplicas, name)`,
    );
  }
}
