/**
 * Several gateway PROCESSES (`gatehouse start`) sharing one store, and the shared Redis / PostgreSQL namespaces they
 * use: what the multi-instance tests need to run "two machines behind a load balancer" on one box.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { mintToken } from "../../src/auth/token.js";
import { openStores } from "../../src/stores/open.js";
import { REPO } from "../cli-helpers.js";
import { POSTGRES_URL, postgresAvailable, schemaNames } from "../postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "../redis-support.js";

const MAIN = join(REPO, "src", "cli", "main.ts");
const TSX = pathToFileURL(join(REPO, "node_modules", "tsx", "dist", "loader.mjs")).href;

/** The shared server of one backend, with a namespace (key prefix / schema) of this run's own. */
export interface SharedBackend {
  name: "redis" | "postgres";
  /** Where the server lives (for skip messages). */
  server: string;
  /** Whether the server answers; with CI=true a missing server throws instead (never a silent skip). */
  available(): Promise<boolean>;
  /** A store URL in a namespace nobody else uses. */
  freshUrl(): string;
  /** Removes every namespace freshUrl() handed out. */
  cleanup(): Promise<void>;
}

export function sharedRedis(): SharedBackend {
  const run = uniquePrefix();
  let next = 0;
  return {
    name: "redis",
    server: REDIS_URL,
    available: requireRedis,
    freshUrl: () => `${REDIS_URL}?prefix=${run}-${next++}`,
    cleanup: async () => {
      await deleteKeys(`${run}-`);
    },
  };
}

export function sharedPostgres(): SharedBackend {
  const schemas = schemaNames("multi_");
  return {
    name: "postgres",
    server: POSTGRES_URL,
    available: postgresAvailable,
    freshUrl: schemas.nextUrl,
    cleanup: schemas.drop,
  };
}

/** A strong gateway secret, the same string handed to every instance (GATEHOUSE_SECRET), so code hashes agree. */
export function newGatewaySecret(): string {
  return randomBytes(32).toString("base64url");
}

/** Mints an owner API token straight into the shared store (as `gatehouse token create` would). */
export async function mintOwnerToken(storeUrl: string, secret: string, userId = "owner"): Promise<string> {
  const stores = await openStores(storeUrl, { secret: Buffer.from(secret, "utf8") });
  try {
    if (!stores.tokens) throw new Error(`the ${stores.backend} store keeps no API tokens`);
    return (await mintToken(stores.tokens, { role: "owner", userId, label: "multi-instance test" })).token;
  } finally {
    await stores.close();
  }
}

export interface ApiReply {
  status: number;
  body: any;
}

export interface GatewayProcess {
  url: string;
  wsUrl: string;
  pid: number;
  /** Everything the process printed so far (for failure messages; the gateway never logs codes or tokens). */
  output(): string;
  api(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<ApiReply>;
  /** Exit code or signal once it has exited; null while it runs. */
  exitStatus(): number | string | null;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | string | null>;
}

/** The child's environment: none of the developer's GATEHOUSE_* variables, plus ours. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("GATEHOUSE_")) env[key] = value;
  return { ...env, ...extra };
}

/**
 * `gatehouse start --store <url> --port 0 --data-dir <tmp>` as a child process with GATEHOUSE_SECRET set; resolves
 * once it printed the address it listens on. Each instance has its own data dir, as separate machines would.
 */
export async function startGatewayProcess(storeUrl: string, secret: string): Promise<GatewayProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "gh-multi-"));
  const child = spawn(
    process.execPath,
    ["--import", TSX, MAIN, "start", "--store", storeUrl, "--port", "0", "--data-dir", dataDir],
    {
      cwd: dataDir,
      env: childEnv({ GATEHOUSE_SECRET: secret }),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let printed = "";
  child.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  let status: number | string | null = null;
  const exited = new Promise<number | string | null>((resolve) =>
    child.once("exit", (code, signal) => {
      status = code ?? signal;
      rmSync(dataDir, { recursive: true, force: true });
      resolve(status);
    }),
  );
  const stop = async (): Promise<number | string | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`gatehouse start printed no address within 25 s:\n${printed}`)),
        25_000,
      );
      const check = (): void => {
        const match = /running at (http:\/\/\S+)/.exec(printed);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on("data", check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`gatehouse start exited with ${String(code)}:\n${printed}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/ws`,
    pid: child.pid ?? -1,
    output: () => printed,
    exitStatus: () => status,
    stop,
    api: (method, path, options = {}) => callApi(url, method, path, options),
  };
}

/** One JSON call to a gateway's HTTP API. */
export async function callApi(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<ApiReply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
