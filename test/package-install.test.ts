/**
 * The published package works on its own: an unbuilt copy of this repository is packed with `npm pack` (its prepack
 * builds dist/ and the console), the tarball is installed into an empty folder, `npx gatehouse start` runs from there,
 * and one webchat device is paired through that install's CLI (`npx gatehouse pairing approve CODE`).
 *
 * better-sqlite3's native addon: the install runs with --ignore-scripts (its build from source takes minutes here) and
 * the addon this repository already built for the same pinned version and Node is copied in. Everything else is what
 * a user gets.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "./cli-helpers.js";
import { connectKeyDevice, makeKeyDevice } from "./support/key-device.js";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "gh-package-"));
const clone = join(work, "clone");
const app = join(work, "app");
let gateway: ChildProcess | undefined;
afterAll(async () => {
  // npx runs the gateway as its own child: signal the whole process group the test started, and wait for it to end.
  if (gateway?.pid !== undefined && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway!.once("exit", resolve));
    process.kill(-gateway.pid, "SIGTERM");
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

/** The repository's tracked files (as they are in the working tree), without dist/ or web/dist: an unbuilt clone. */
async function unbuiltClone(): Promise<void> {
  const { stdout } = await run("git", ["ls-files", "-z"], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  for (const file of stdout.split("\0").filter(Boolean)) {
    if (!existsSync(join(REPO, file))) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(REPO, file), join(clone, file));
  }
  symlinkSync(join(REPO, "node_modules"), join(clone, "node_modules"));
}

describe("the packed package, installed into an empty folder", () => {
  it("npm pack builds an unbuilt clone; npx gatehouse start runs; a device pairs through npx gatehouse pairing approve", async () => {
    await unbuiltClone();
    expect(existsSync(join(clone, "dist"))).toBe(false);
    const packed = await run("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: clone,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [manifest] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const files = manifest!.files.map((f) => f.path);
    for (const expected of [
      "dist/cli/main.js",
      "dist/index.js",
      "dist/index.d.ts",
      "web/dist/index.html",
      "LICENSE",
      "README.md",
      "package.json",
    ]) {
      expect(files, expected).toContain(expected);
    }

    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "gatehouse-user", private: true }));
    await run(
      "npm",
      ["install", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", join(work, manifest!.filename)],
      { cwd: app },
    );
    const installed = join(app, "node_modules", "better-sqlite3");
    const version = (dir: string) =>
      (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
    expect(version(installed)).toBe(version(join(REPO, "node_modules", "better-sqlite3")));
    cpSync(join(REPO, "node_modules", "better-sqlite3", "build"), join(installed, "build"), { recursive: true });
    expect(readdirSync(join(app, "node_modules", "gatehouse", "dist", "cli"))).toContain("main.js");

    const dataDir = join(app, "data");
    const common = ["--data-dir", dataDir];
    gateway = spawn("npx", ["gatehouse", "start", "--port", "0", ...common], {
      cwd: app,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let out = "";
    gateway.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    gateway.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npx gatehouse start printed no URL:\n${out}`)), 60_000);
      gateway!.stdout!.on("data", () => {
        const match = /running at (http:\/\/\S+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      gateway!.once("exit", (code) => reject(new Error(`npx gatehouse start exited with ${code}:\n${out}`)));
    });
    expect(out).toMatch(/First start: an owner token was created/);
    expect((await fetch(`${url}/console/`)).status).toBe(200);

    // A new data directory requires device keys: the device proves its key first.
    const key = makeKeyDevice();
    const { socket: device, first } = await connectKeyDevice(`${url.replace("http", "ws")}/ws`, key);
    const { code } = first;
    const approve = await run("npx", ["gatehouse", "pairing", "approve", code as string, ...common], { cwd: app });
    expect(approve.stdout).toContain("Approved webchat pairing.");
    expect((await device.nextOfType("hello")).principal.userId).toBe(key.deviceId);
    device.ws.close();
  }, 600_000);
});
