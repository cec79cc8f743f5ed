import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { mintToken, tokenAuth } from "../src/auth/index.js";
import { MemoryTokenStore } from "../src/stores/memory/tokens.js";
import { createSqliteTokenStore } from "../src/stores/sqlite/tokens.js";
import type { ApiTokenRecord, TokenStore } from "../src/stores/types.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

function sqlitePath(): string {
  const dir = mkdtempSync(join(tmpdir(), "gh-tokens-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "gatehouse.db");
}

function openSqlite(path: string): TokenStore {
  const db = new Database(path);
  cleanups.unshift(() => db.close());
  return createSqliteTokenStore(db);
}

const record = (id: string, hash: string, createdAt = 1): ApiTokenRecord => ({
  id,
  hash,
  role: "owner",
  userId: `user-${id}`,
  label: "",
  createdAt,
});

const backends: [string, () => TokenStore][] = [
  ["memory", () => new MemoryTokenStore()],
  ["sqlite", () => openSqlite(sqlitePath())],
];

describe.each(backends)("%s token store", (_name, open) => {
  it("inserts, finds by hash, lists oldest first, counts and deletes", async () => {
    const store = open();
    await store.insert(record("b", "h2", 2));
    await store.insert(record("a", "h1", 1));
    expect(await store.findByHash("h2")).toEqual(record("b", "h2", 2));
    expect(await store.findByHash("nope")).toBeNull();
    expect((await store.list()).map((r) => r.id)).toEqual(["a", "b"]);
    expect(await store.count()).toBe(2);
    expect(await store.delete("a")).toBe(true);
    expect(await store.delete("a")).toBe(false);
    expect(await store.findByHash("h1")).toBeNull();
    expect(await store.count()).toBe(1);
  });

  it("refuses a duplicate hash or id and keeps the first", async () => {
    const store = open();
    await store.insert(record("a", "h1"));
    await expect(store.insert({ ...record("b", "h1"), role: "admin" })).rejects.toThrow();
    await expect(store.insert(record("a", "h9"))).rejects.toThrow();
    expect(await store.list()).toEqual([record("a", "h1")]);
  });

  it("hands out copies: mutating a result changes nothing stored", async () => {
    const store = open();
    await store.insert(record("a", "h1"));
    const found = await store.findByHash("h1");
    if (found) found.role = "admin";
    expect((await store.findByHash("h1"))?.role).toBe("owner");
  });
});

describe("sqlite token store across connections", () => {
  it("a token minted through one connection is admitted and revoked through another", async () => {
    const path = sqlitePath();
    const writer = openSqlite(path);
    const reader = openSqlite(path);
    const { token, id } = await mintToken(writer, { role: "admin", userId: "carol" });
    const auth = tokenAuth(reader);
    const req = { transport: "http" as const, method: "GET", url: "/", headers: { authorization: `Bearer ${token}` }, remoteAddress: "10.0.0.1", query: {} };
    expect(await auth.check(req)).toMatchObject({ success: true, userId: "carol", role: "admin" });
    expect(await writer.delete(id)).toBe(true);
    expect((await auth.check(req)).success).toBe(false);
  });
});
