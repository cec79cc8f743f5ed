/** Helpers for the Redis store tests: the shared test server, unique prefixes, cleanup and a private server to kill. */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection, createServer } from "node:net";
import { createClient } from "redis";
import { until } from "./support/until.js";

export const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";

function reachable(port: number, host = "127.0.0.1", timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Whether the shared test Redis answers. With CI=true a missing server is a failure, never a skip; locally the tests
 * are skipped with a loud warning.
 */
export async function requireRedis(): Promise<boolean> {
  const url = new URL(REDIS_URL);
  if (await reachable(Number(url.port || 6379), url.hostname)) return true;
  if (process.env.CI === "true")
    throw new Error(`Redis at ${url.host} is not reachable and CI=true: the Redis store tests cannot run`);
  console.warn(
    `\n*** Redis at ${url.host} is not reachable: SKIPPING the Redis store tests (they fail when CI=true) ***\n`,
  );
  return false;
}

/** A prefix no other test run uses. */
export function uniquePrefix(): string {
  return `gh-test-${randomBytes(6).toString("hex")}`;
}

/** Deletes every key starting with `prefix` (test cleanup; stores themselves never scan the keyspace). */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<number> {
  const client = createClient({ url });
  client.on("error", () => {});
  await client.connect();
  let deleted = 0;
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      if (keys.length > 0) deleted += await client.unlink(keys);
    }
  } finally {
    await client.close();
  }
  return deleted;
}

export async function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A redis-server of the test's own on a spare port, which the test may kill and start again. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private scratch: string | null = null;

  /** dataDir: keep the data across stop/start (append-only file there, fsync on every write). */
  private constructor(
    readonly port: number,
    private readonly dataDir?: string,
  ) {}

  static async start(options: { dataDir?: string } = {}): Promise<PrivateRedis> {
    const server = new PrivateRedis(await sparePort(), options.dataDir);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async start(): Promise<void> {
    // Without a data dir of the test's, a scratch dir: a replica writes the RDB of its full sync to its working dir,
    // which would otherwise be the repository (dump.rdb there; see support/repo-data-dir-guard.ts).
    if (!this.dataDir) this.scratch = mkdtempSync(join(tmpdir(), "gh-private-redis-"));
    const persistence = this.dataDir ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    const dir = this.dataDir ?? this.scratch!;
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", ...persistence, "--dir", dir],
      { cwd: dir, stdio: "ignore" },
    );
    this.child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`redis-server exited (${code})`))),
    );
    exited.catch(() => {});
    await until(
      async () => {
        if (child.exitCode !== null) await exited;
        return reachable(this.port);
      },
      `redis-server on port ${this.port} to start`,
      10_000,
    );
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing is answered. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  resume(): void {
    this.child?.kill("SIGCONT");
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await gone;
    }
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
    this.scratch = null;
  }
}
