/**
 * README "Bring your own store", followed as written: its three commands run from the repository root (the start
 * script, a device, curl), with two changes a test needs: PORT picks a free port (and the device and curl get that
 * port), and the SQLite file is removed afterwards.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { sparePort } from "./redis-support.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const readme = readFileSync(resolve(root, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Bring your own store"), readme.indexOf("```ts\n// my-store.ts"));
const command = (prefix: string) => {
  const line = section.split("\n").find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`README's "Bring your own store" has no command starting with ${prefix}`);
  return line;
};
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGTERM");
  rmSync(resolve(root, "example-pairing.db"), { force: true });
  rmSync(resolve(root, "example-pairing.db-wal"), { force: true });
  rmSync(resolve(root, "example-pairing.db-shm"), { force: true });
});

/** Starts `line` (split on spaces, as the shell would here) and resolves with each stdout line as it comes. */
function start(
  line: string,
  env: Record<string, string> = {},
): { lines: string[]; next(match: RegExp, ms?: number): Promise<string> } {
  const [program = "", ...args] = line.split(" ");
  const child = spawn(program, args, { cwd: root, env: { ...process.env, ...env } });
  children.push(child);
  const lines: string[] = [];
  let buffer = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    lines.push(...parts);
  });
  return {
    lines,
    async next(match, ms = 20_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = lines.find((l) => match.test(l));
        if (found) return found;
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no line matching ${match} from "${line}": ${lines.join(" | ")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

describe("README: Bring your own store", () => {
  it("starts a gateway on the SQLite example, a device asks, curl approves, the device is admitted", async () => {
    const port = await sparePort();
    const gateway = start(command("npx tsx examples/start.ts"), { PORT: String(port) });
    await gateway.next(/^gateway on http:\/\/127\.0\.0\.1:\d+ with the sqlite example store$/);
    const token = (await gateway.next(/^owner token \(shown once\): /)).split(": ")[1] ?? "";
    const device = start(`${command("npx tsx examples/device.ts")} ws://127.0.0.1:${port}/ws`);
    const code = /pairing code: (\S+)/.exec(await device.next(/^pairing code: /))?.[1] ?? "";
    expect(code).toMatch(/^[0-9A-F]{8}$/);
    const curl = command("curl ")
      .replace("YOUR-TOKEN", token)
      .replace("THE-CODE", code)
      .replace("127.0.0.1:8787", `127.0.0.1:${port}`);
    // The shell's quoting, by hand: the header values and the JSON body are single arguments.
    const args = [...curl.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "").slice(1);
    const { stdout } = await run("curl", args);
    expect(JSON.parse(stdout)).toEqual({ approved: true });
    await device.next(/^admitted$/);
  }, 60_000);
});
