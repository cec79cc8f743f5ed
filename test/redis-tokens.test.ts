import { randomBytes } from "node:crypto";
import { afterAll, describe, it } from "vitest";
import { openRedisStores } from "../src/stores/redis/index.js";
import type { Stores, TokenStore } from "../src/stores/types.js";
import { describeTokenStore } from "../src/testing/index.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const available = await requireRedis();
const run = uniquePrefix();
let next = 0;
const opened: Stores[] = [];
/** Both instances of a pair are one gateway: they share its secret. */
const secret = randomBytes(32);

async function open(prefix: string): Promise<TokenStore> {
  const stores = await openRedisStores(`${REDIS_URL}?prefix=${prefix}`, { secret });
  opened.push(stores);
  if (!stores.tokens) throw new Error("the redis stores have no token store");
  return stores.tokens;
}

(available ? describe : describe.skip)("redis token store", () => {
  afterAll(async () => {
    await Promise.all(opened.map((stores) => stores.close()));
    await deleteKeys(`${run}-`);
  });

  describeTokenStore(
    "redis (two instances on one prefix)",
    async () => {
      const prefix = `${run}-${next++}`;
      return [await open(prefix), await open(prefix)];
    },
    { describe, it },
  );
});
