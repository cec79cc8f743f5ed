import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface Child<T> {
  process: ChildProcess;
  /** The JSON object the child printed on its first stdout line. */
  first: T;
  /** Ends the child's stdin (its signal to stop) and waits for it to exit. */
  stop(): Promise<number | null>;
}

/** Absolute path of a bench script next to bench/run.ts. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`../${name}`, import.meta.url));
}

/**
 * Runs a bench script in its own Node process (TypeScript through tsx), waiting for the one JSON line it prints when
 * ready (or done). stderr passes through. `nodeFlags` go before the script, e.g. --cpu-prof.
 */
export async function startChild<T>(
  script: string,
  args: string[],
  nodeFlags: string[] = [],
  timeoutMs = 60_000,
): Promise<Child<T>> {
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", benchScript(script), ...args], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bench: ${script} printed nothing within ${timeoutMs} ms`)),
      timeoutMs,
    );
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`bench: ${script} printed something that is not JSON: ${line.slice(0, 200)}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bench: ${script} exited with code ${String(code)} before it was ready`));
    });
  });
  return {
    process: child,
    first,
    stop: async () => {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** For child scripts: resolves when the parent ends our stdin (or goes away). */
export function parentSaysStop(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.resume();
    process.stdin.once("end", () => resolve());
    process.stdin.once("close", () => resolve());
  });
}

/** CPU time (user + system, ms) a child process has used so far, from /proc (Linux); null where unavailable. */
export function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15 (clock ticks).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every mainstream Linux build. */
const CLOCK_TICKS_PER_SECOND = 100;
