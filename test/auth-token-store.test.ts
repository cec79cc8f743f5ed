import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, it } from "vitest";
import { MemoryTokenStore } from "../src/stores/memory/tokens.js";
import { createSqliteTokenStore } from "../src/stores/sqlite/tokens.js";
import type { TokenStore } from "../src/stores/types.js";
import { describeTokenStore } from "../src/testing/index.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

function openSqlite(path: string): TokenStore {
  const db = new Database(path);
  cleanups.unshift(() => db.close());
  return createSqliteTokenStore(db);
}

describeTokenStore(
  "memory",
  async () => {
    const store = new MemoryTokenStore();
    return [store, store];
  },
  { describe, it },
);

describeTokenStore(
  "sqlite (two connections to one file)",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-tokens-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "gatehouse.db");
    return [openSqlite(path), openSqlite(path)];
  },
  { describe, it },
);
