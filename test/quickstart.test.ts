/**
 * The quick start in docs/protocols.md, run for real: both files copied word for word into a fresh folder outside the
 * repository, next to examples/map-store.ts as my-store.ts, importing `gatehouse/testing` from the built package
 * (node_modules/gatehouse points at this repository, so its export map and dist/ are what resolves). One run under
 * vitest, one under node:test.
 */
import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify, stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const doc = readFileSync(join(root, "docs/protocols.md"), "utf8");
let folder = "";

/** The code block whose first line is `// <file>`. */
function quickStartFile(file: string): string {
  const block = new RegExp("```ts\\n(// " + file.replace(/\./g, "\\.") + "\\n[\\s\\S]*?)```").exec(doc);
  if (!block?.[1]) throw new Error(`docs/protocols.md has no code block starting with // ${file}`);
  return block[1];
}

beforeAll(() => {
  if (!existsSync(join(root, "dist/testing/index.js"))) throw new Error("dist/ is missing: run `npm run build` first");
  folder = mkdtempSync(join(tmpdir(), "gatehouse-quickstart-"));
  mkdirSync(join(folder, "node_modules"));
  symlinkSync(root, join(folder, "node_modules/gatehouse"), "dir");
  symlinkSync(join(root, "node_modules/vitest"), join(folder, "node_modules/vitest"), "dir");
  writeFileSync(join(folder, "package.json"), JSON.stringify({ type: "module", private: true }));
  copyFileSync(join(root, "examples/map-store.ts"), join(folder, "my-store.ts"));
  for (const file of ["my-store.test.ts", "my-store.node.test.ts"])
    writeFileSync(join(folder, file), quickStartFile(file));
});

afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe("docs/protocols.md quick start", () => {
  it("is at most 20 lines of code for both runners together", () => {
    const lines = [quickStartFile("my-store.test.ts"), quickStartFile("my-store.node.test.ts")].join("").split("\n");
    expect(lines.filter((line) => line.trim() !== "").length).toBeLessThanOrEqual(20);
  });

  it("runs under vitest and passes the required cases", async () => {
    const vitest = join(root, "node_modules/vitest/vitest.mjs");
    const result = await run(process.execPath, [vitest, "run", "--root", folder, "my-store.test.ts"], {
      cwd: folder,
      env: { ...process.env, CI: "true" },
    });
    const stdout = stripVTControlCharacters(result.stdout);
    const passed = Number(/Tests\s+(\d+) passed/.exec(stdout)?.[1]);
    expect(stdout).not.toMatch(/failed/);
    expect(passed).toBeGreaterThanOrEqual(12);
  }, 60_000);

  it("runs under node:test and passes the required cases", async () => {
    const tsx = join(root, "node_modules/tsx/dist/cli.mjs");
    const result = await run(process.execPath, [tsx, "--test", "my-store.node.test.ts"], { cwd: folder });
    const stdout = stripVTControlCharacters(result.stdout);
    expect(/# fail (\d+)/.exec(stdout)?.[1]).toBe("0");
    expect(Number(/# pass (\d+)/.exec(stdout)?.[1])).toBeGreaterThanOrEqual(12);
  }, 60_000);
});
