import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { mintToken, tokenAuth } from "../src/auth/index.js";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import type { ApiTokenRecord, Stores, TokenStore } from "../src/stores/types.js";
import { dropSchemas, postgresAvailable, uniqueSchema, urlWithSchema } from "./postgres-helpers.js";

const prefix = `${uniqueSchema("t")}_`;
let counter = 0;
const available = await postgresAvailable();

afterAll(async () => {
  if (available) await dropSchemas(prefix);
});

const record = (id: string, hash: string, createdAt = 1): ApiTokenRecord => ({
  id,
  hash,
  role: "owner",
  userId: `user-${id}`,
  label: "",
  createdAt,
});

async function withStores(count: number, body: (...tokens: TokenStore[]) => Promise<void>): Promise<void> {
  const url = urlWithSchema(`${prefix}${++counter}`);
  const secret = randomBytes(32);
  const opened: Stores[] = [];
  try {
    for (let i = 0; i < count; i++) opened.push(await openPostgresStores(url, { secret, poolSize: 2 }));
    await body(...opened.map((s) => s.tokens as TokenStore));
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
}

describe.runIf(available)("postgres token store", () => {
  it("inserts, finds by hash, lists oldest first, counts and deletes", () =>
    withStores(1, async (store) => {
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
    }));

  it("refuses a duplicate hash or id and keeps the first", () =>
    withStores(1, async (store) => {
      await store.insert(record("a", "h1"));
      await expect(store.insert({ ...record("b", "h1"), role: "admin" })).rejects.toThrow();
      await expect(store.insert(record("a", "h9"))).rejects.toThrow();
      expect(await store.list()).toEqual([record("a", "h1")]);
    }));

  it("a token minted through one instance is admitted and revoked through another", () =>
    withStores(2, async (writer, reader) => {
      const { token, id } = await mintToken(writer!, { role: "admin", userId: "carol" });
      const auth = tokenAuth(reader!);
      const req = { transport: "http" as const, method: "GET", url: "/", headers: { authorization: `Bearer ${token}` }, remoteAddress: "10.0.0.1", query: {} };
      expect(await auth.check(req)).toMatchObject({ success: true, userId: "carol", role: "admin" });
      expect(await writer!.delete(id)).toBe(true);
      expect((await auth.check(req)).success).toBe(false);
    }));
});
