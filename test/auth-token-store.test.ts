import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "vitest";
import { MemoryTokenStore } from "../src/stores/memory/tokens.js";
import { openSqliteStores } from "../src/stores/sqlite/index.js";
import type { TokenStore } from "../src/stores/types.js";
import { describeTokenStore } from "../src/testing/index.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

async function openSqlite(path: string): Promise<TokenStore> {
  const stores = await openSqliteStores(path, { secret: Buffer.alloc(32, 7) });
  cleanups.unshift(() => void stores.close());
  return stores.tokens!;
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
    return [await openSqlite(path), await openSqlite(path)];
  },
  { describe, it },
);
