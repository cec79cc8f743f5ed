import { afterAll, beforeAll } from "vitest";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadGatewaySecret } from "../src/pairing/secret.js";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";

export const REPO = resolve(import.meta.dirname, "..");
const MAIN = join(REPO, "src", "cli", "main.ts");
/** tsx by absolute URL, so the child may run in a temp working directory. */
const TSX = pathToFileURL(join(REPO, "node_modules", "tsx", "dist", "loader.mjs")).href;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temp data dir with its SQLite store URL; `args` are the flags every command gets. */
export interface CliWorkspace {
  dataDir: string;
  store: string;
  args: string[];
  /** The same store, opened in this process with the same gateway secret the CLI uses. */
  open(): Promise<Stores>;
  cleanup(): void;
}

export function cliWorkspace(): CliWorkspace {
  const dataDir = mkdtempSync(join(tmpdir(), "gh-cli-"));
  const store = `sqlite:${join(dataDir, "gatehouse.db")}`;
  return {
    dataDir,
    store,
    args: ["--data-dir", dataDir, "--store", store],
    open: () => openStores(store, { secret: loadGatewaySecret(dataDir, {}), dataDir }),
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** Environment for the child: no GATEHOUSE_* from the developer's shell. */
function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("GATEHOUSE_")) env[key] = value;
  return { ...env, ...extra };
}

/**
 * The child's working directory: the test's own, or a fresh empty one removed when the child exits. Never the
 * repository (a default `./.gatehouse` there breaks the next `npm start`, see support/repo-data-dir-guard.ts) and never
 * a directory other tests share (no stray gatehouse.yaml, no data dir left by another test).
 */
function childCwd(given: string | undefined, otherUser = false): { cwd: string; done: () => void } {
  if (given) return { cwd: given, done: () => undefined };
  const cwd = mkdtempSync(join(tmpdir(), "gh-cli-cwd-"));
  // A child run as another user (uid option) may enter and write it, as it could the shared temp dir.
  if (otherUser) chmodSync(cwd, 0o777);
  return { cwd, done: () => rmSync(cwd, { recursive: true, force: true }) };
}

/** Runs `gatehouse <args>` as a child process: node --import tsx src/cli/main.ts. */
export function runGatehouse(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs?: number } = {},
): Promise<CliRun> {
  const workdir = childCwd(options.cwd, options.uid !== undefined);
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      ["--import", TSX, MAIN, ...args],
      {
        cwd: workdir.cwd,
        env: childEnv(options.env ?? {}),
        timeout: options.timeoutMs ?? 30_000,
        uid: options.uid,
        gid: options.gid,
      },
      (error, stdout, stderr) => {
        workdir.done();
        if (error && typeof error.code !== "number") return reject(error);
        resolvePromise({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Starts `gatehouse start` in the background; resolves once it printed its URL (and first-start token, if any). */
export async function startGatehouse(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{
  child: ChildProcess;
  url: string;
  token?: string;
  output: () => string;
  logs: () => string;
  stop: () => Promise<number | string | null>;
}> {
  const workdir = childCwd(options.cwd);
  const child = spawn(process.execPath, ["--import", TSX, MAIN, "start", ...args], {
    cwd: workdir.cwd,
    env: childEnv(options.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string | null>((resolveExit) =>
    child.once("exit", (code, signal) => {
      workdir.done();
      resolveExit(code ?? signal);
    }),
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatehouse start printed no URL:\n${stdout}\n${stderr}`)), 20_000);
    const check = () => {
      const match = /running at (http:\/\/\S+)/.exec(stdout);
      // The token block and URL come in one write that ends with the console line.
      if (match?.[1] && /Console: \S+\n/.test(stdout)) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse start exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  const token = /^\s+(gh_[A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1];
  return {
    child,
    url,
    token,
    output: () => stdout + stderr,
    /** What it wrote to stderr: its log lines. */
    logs: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/**
 * One workspace and its opened SQLite stores for a whole test file (this process plays the gateway and the senders,
 * the CLI runs as child processes on the same file); `gatehouse(...)` runs the CLI against it.
 */
export function useSharedCliWorkspace(): {
  stores: () => Stores;
  gatehouse: (...args: string[]) => Promise<CliRun>;
} {
  let ws: CliWorkspace | undefined;
  let stores: Stores | undefined;
  beforeAll(async () => {
    ws = cliWorkspace();
    stores = await ws.open();
  });
  afterAll(async () => {
    await stores?.close();
    ws?.cleanup();
  });
  return {
    stores: () => {
      if (!stores) throw new Error("the CLI workspace is not open yet");
      return stores;
    },
    gatehouse: (...args: string[]) => runGatehouse([...args, ...(ws?.args ?? [])]),
  };
}
