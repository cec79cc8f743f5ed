/**
 * Talking to the redis-server processes of a test's own topology (redis-topology.ts): whether the binaries are here,
 * one command to one node, its replication state, and waiting for a node to get somewhere.
 */
import { execFile } from "node:child_process";
import { createClient } from "redis";
import { until } from "./until.js";

export const HOST = "127.0.0.1";
const START_DEADLINE_MS = 20_000;

/** Whether redis-server and redis-cli are here; with CI=true their absence fails the run instead of skipping. */
export async function requireRedisBinaries(purpose: string): Promise<boolean> {
  const found = await Promise.all(
    ["redis-server", "redis-cli"].map((bin) =>
      run(bin, ["--version"]).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (found.every(Boolean)) return true;
  if (process.env.CI === "true")
    throw new Error(`redis-server/redis-cli are not installed and CI=true: ${purpose} cannot run`);
  console.warn(`\n*** redis-server/redis-cli not installed: SKIPPING ${purpose} (it fails when CI=true) ***\n`);
  return false;
}

export function run(bin: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${bin} ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Polls `probe` (support/until.ts); a probe that throws (a node still starting) counts as "not yet", and the last
 * error is named when time runs out.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = START_DEADLINE_MS,
): Promise<T> {
  let last: unknown;
  const attempt = async (): Promise<T | null | undefined | false> => {
    try {
      return await probe();
    } catch (error) {
      last = error;
      return null;
    }
  };
  try {
    return (await until(attempt, what, ms)) as T;
  } catch (error) {
    throw last ? new Error(`${(error as Error).message}: ${String(last)}`) : error;
  }
}

/** One command to one node, on a short-lived connection. */
export async function ask(port: number, args: string[]): Promise<unknown> {
  const client = createClient({ socket: { host: HOST, port, connectTimeout: 2000, reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

/** `INFO replication` as a map. */
export async function replicationInfo(port: number): Promise<Map<string, string>> {
  const text = String(await ask(port, ["INFO", "replication"]));
  return new Map(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(":"))
      .map((line) => line.split(":", 2) as [string, string]),
  );
}

/** A field of a RESP2 flat array or a RESP3 map reply. */
export function fieldOf(reply: unknown, name: string): unknown {
  if (Array.isArray(reply)) return reply[reply.indexOf(name) + 1];
  if (reply instanceof Map) return reply.get(name);
  return (reply as Record<string, unknown>)[name];
}
