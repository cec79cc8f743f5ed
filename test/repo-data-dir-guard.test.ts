/**
 * The run-wide guard (support/repo-data-dir-guard.ts, vitest globalSetup) against tests writing into the repository
 * (`./.gatehouse`, `dump.rdb`): it fails when one appears during the run, and leaves alone one that was there before.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { watchPaths } from "./support/repo-data-dir-guard.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), "gh-guard-"));
  dirs.push(dir);
  return dir;
}

describe("the repository data dir guard", () => {
  it("fails naming what appeared during the run, and what a directory holds", () => {
    const root = repo();
    const dataDir = join(root, ".gatehouse");
    const dump = join(root, "dump.rdb");
    const check = watchPaths([dataDir, dump]);
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, "secret"), "x");
    expect(check).toThrow(`a test wrote into the repository: ${dataDir} (holding: secret). Give the CLI`);
    writeFileSync(dump, "");
    expect(check).toThrow(`${dataDir} (holding: secret); ${dump}.`);
  });

  it("passes when none appeared, and when one was there before the run", () => {
    const untouched = join(repo(), ".gatehouse");
    expect(watchPaths([untouched])).not.toThrow();
    const existing = join(repo(), ".gatehouse");
    mkdirSync(existing);
    const check = watchPaths([existing]);
    writeFileSync(join(existing, "gatehouse.db"), "");
    expect(check).not.toThrow();
  });
});
