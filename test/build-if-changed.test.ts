/**
 * `npm start` builds only when a source changed: scripts/build-if-changed.mjs (its prestart) run with --check on a
 * throwaway repository layout, through the real script.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "./cli-helpers.js";

const root = mkdtempSync(join(tmpdir(), "gh-build-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text = "x", at?: Date): void {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), text);
  if (at) utimesSync(join(root, path), at, at);
}

const check = () =>
  new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [join(REPO, "scripts", "build-if-changed.mjs"), "--check", root],
      (error, _stdout, stderr) => resolve({ code: typeof error?.code === "number" ? error.code : 0, stderr }),
    ),
  );

describe("npm start builds only when sources changed", () => {
  it("a fresh clone needs a build", async () => {
    write("src/index.ts", "export {};", new Date(Date.now() - 60_000));
    expect(await check()).toMatchObject({ code: 1, stderr: expect.stringContaining("dist/cli/main.js is missing") });
  });

  it("built after the last change: up to date, no build", async () => {
    const past = new Date(Date.now() - 30_000);
    write("dist/cli/main.js", "", past);
    write("web/dist/index.html", "", past);
    write("dist/.build-stamp", "", past);
    expect(await check()).toMatchObject({ code: 0, stderr: expect.stringContaining("build is up to date") });
  });

  it("a source saved after the last build (console or gateway) needs a build, naming the file", async () => {
    write("web/src/main.ts", "// edited");
    expect(await check()).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`${join("web", "src", "main.ts")} changed since the last build`),
    });
    write("dist/.build-stamp", "", new Date(Date.now() + 1_000));
    expect((await check()).code).toBe(0);
    write("src/cli/program.ts", "// edited", new Date(Date.now() + 2_000));
    expect(await check()).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`${join("src", "cli", "program.ts")} changed`),
    });
  });
});
