/**
 * The stores' atomic rate budget (`Stores.budgets`) on every built-in backend: of many parallel takes through two
 * handles on one store, exactly `capacity` succeed; a give-back returns one unit; keys are separate; it refills.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStores } from "../src/stores/open.js";
import type { BudgetStore } from "../src/stores/budget.js";
import type { Stores } from "../src/stores/types.js";
import { SECRET } from "./gateway-helpers.js";
import { mariadbAvailable, MARIADB_URL, dropTables } from "./mariadb-helpers.js";
import { postgresAvailable, schemaNames } from "./postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const LIMIT = { capacity: 5, refillPerSecond: 1 / 3600 };

async function open(url: string, now?: () => number): Promise<BudgetStore> {
  const stores: Stores = await openStores(url, { secret: SECRET, ...(now ? { now } : {}) });
  cleanups.push(() => stores.close());
  if (!stores.budgets) throw new Error(`the ${stores.backend} store has no budgets`);
  return stores.budgets;
}

interface Backend {
  name: string;
  up: boolean;
  /** A fresh store URL, and whether two opens of it share state (memory: each open is its own store). */
  url(): string;
  shared: boolean;
}

function sqliteUrl(): string {
  const dir = mkdtempSync(join(tmpdir(), "gh-budgets-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, "gatehouse.db")}`;
}

function redisUrl(): string {
  const prefix = uniquePrefix();
  cleanups.push(async () => void (await deleteKeys(prefix)));
  return `${REDIS_URL}?prefix=${prefix}`;
}

const schemas = schemaNames("budgets_");
const BACKENDS: Backend[] = [
  { name: "memory", up: true, url: () => "memory:", shared: false },
  { name: "sqlite", up: true, url: sqliteUrl, shared: true },
  { name: "redis", up: await requireRedis(), url: redisUrl, shared: true },
  { name: "postgres", up: await postgresAvailable(), url: () => schemas.nextUrl(), shared: true },
  { name: "mariadb", up: await mariadbAvailable(), url: mariadbUrl, shared: true },
];

function mariadbUrl(): string {
  const prefix = `gh_budget${uniquePrefix().slice(-8)}_`;
  cleanups.push(() => dropTables(prefix));
  return `${MARIADB_URL}?prefix=${prefix}`;
}

describe.each(BACKENDS)("$name: the store's rate budget", (backend) => {
  afterEach(async () => {
    if (backend.name === "postgres") await schemas.drop();
  });

  it.skipIf(!backend.up)(
    "of 18 parallel takes (over two handles when the store is shared), exactly the capacity succeed",
    async () => {
      const url = backend.url();
      const handles = backend.shared ? [await open(url), await open(url)] : [await open(url)];
      const taken = await Promise.all(
        Array.from({ length: 18 }, (_, i) => handles[i % handles.length]!.take("addr:203.0.113.9", LIMIT)),
      );
      expect(taken.filter(Boolean).length).toBe(LIMIT.capacity);
      expect(await handles[0]!.take("addr:198.51.100.1", LIMIT)).toBe(true);
      await handles[0]!.giveBack("addr:203.0.113.9", LIMIT);
      expect(await handles.at(-1)!.take("addr:203.0.113.9", LIMIT)).toBe(true);
      expect(await handles[0]!.take("addr:203.0.113.9", LIMIT)).toBe(false);
    },
  );

  it.skipIf(!backend.up)(
    "refills at the configured rate and refuses bad limits before touching the store",
    async () => {
      let now = 1_000_000;
      const budgets = await open(backend.url(), () => now);
      for (let i = 0; i < LIMIT.capacity; i++) expect(await budgets.take("k", LIMIT)).toBe(true);
      expect(await budgets.take("k", LIMIT)).toBe(false);
      now += 3_600_000;
      expect(await budgets.take("k", LIMIT)).toBe(true);
      expect(await budgets.take("k", LIMIT)).toBe(false);
      await expect(budgets.take("k", { capacity: 0, refillPerSecond: 1 })).rejects.toThrow(TypeError);
      await expect(budgets.take("", LIMIT)).rejects.toThrow(/budget key/);
    },
  );
});
