/**
 * The conformance suites again, on a client the user already has: one node-redis client speaking RESP3 (replies are
 * maps and booleans where RESP2 has arrays and nulls), shared by every store and left open when the stores close.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { createClient } from "redis";
import { createRedisStores } from "../src/stores/redis/index.js";
import { describePairingStore, describeSessionBindingStore } from "../src/testing/index.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const available = await requireRedis();
const run = uniquePrefix();
let next = 0;
const client = createClient({ url: REDIS_URL, RESP: 3, disableOfflineQueue: true });
client.on("error", () => {});
const suiteDescribe = available ? describe : describe.skip;

suiteDescribe("redis stores on a user-supplied RESP3 client", () => {
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await deleteKeys(`${run}-`);
  });

  describePairingStore(
    "redis (user RESP3 client)",
    async (ctx) => {
      const stores = await createRedisStores(client, {
        ...ctx.rules,
        now: ctx.now,
        secret: ctx.secret,
        keyPrefix: `${run}-${next++}`,
      });
      void stores.sessions.close();
      return stores.pairing;
    },
    { describe, it },
  );

  describeSessionBindingStore(
    "redis (user RESP3 client)",
    async (ctx) => {
      const stores = await createRedisStores(client, {
        now: ctx.now,
        secret: ctx.secret,
        sessionIdleTtlMs: ctx.idleTtlMs,
        keyPrefix: `${run}-${next++}`,
      });
      void stores.pairing.close();
      return stores.sessions;
    },
    { describe, it },
  );
});
