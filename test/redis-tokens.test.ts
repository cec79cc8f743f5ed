import { afterAll, describe, expect, it } from "vitest";
import { mintToken, tokenAuth } from "../src/auth/index.js";
import { openRedisStores } from "../src/stores/redis/index.js";
import type { ApiTokenRecord, Stores, TokenStore } from "../src/stores/types.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const available = await requireRedis();
const run = uniquePrefix();
let next = 0;
const opened: Stores[] = [];

async function open(prefix = `${run}-${next++}`): Promise<TokenStore> {
  const stores = await openRedisStores(`${REDIS_URL}?prefix=${prefix}`);
  opened.push(stores);
  if (!stores.tokens) throw new Error("the redis stores have no token store");
  return stores.tokens;
}

const record = (id: string, hash: string, createdAt = 1): ApiTokenRecord => ({
  id,
  hash,
  role: "owner",
  userId: `user-${id}`,
  label: "",
  createdAt,
});

(available ? describe : describe.skip)("redis token store", () => {
  afterAll(async () => {
    await Promise.all(opened.map((stores) => stores.close()));
    await deleteKeys(`${run}-`);
  });

  it("inserts, finds by hash, lists oldest first, counts and deletes", async () => {
    const store = await open();
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
    const store = await open();
    await store.insert(record("a", "h1"));
    await expect(store.insert({ ...record("b", "h1"), role: "admin" })).rejects.toThrow(/hash/);
    await expect(store.insert(record("a", "h9"))).rejects.toThrow(/id/);
    expect(await store.list()).toEqual([record("a", "h1")]);
    expect(await store.findByHash("h9")).toBeNull();
  });

  it("a token minted through one instance is admitted and revoked through another", async () => {
    const prefix = `${run}-${next++}`;
    const writer = await open(prefix);
    const reader = await open(prefix);
    const { token, id } = await mintToken(writer, { role: "admin", userId: "carol" });
    const auth = tokenAuth(reader);
    const request = {
      transport: "http" as const,
      method: "GET",
      url: "/",
      headers: { authorization: `Bearer ${token}` },
      remoteAddress: "127.0.0.1",
      query: {},
    };
    expect((await auth.check(request)).success).toBe(true);
    expect(await writer.delete(id)).toBe(true);
    expect((await auth.check(request)).success).toBe(false);
  });
});
