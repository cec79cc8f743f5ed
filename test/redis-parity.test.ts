/** The Redis store against the memory reference: the shared differential suite, one fresh key prefix per sequence. */
import { afterAll, describe, it } from "vitest";
import { openRedisStores } from "../src/stores/redis/index.js";
import { describeDifferentialPairingStore } from "../src/testing/index.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const available = await requireRedis();
const run = uniquePrefix();
let namespaces = 0;
afterAll(async () => {
  if (available) await deleteKeys(`${run}-`);
});

describeDifferentialPairingStore(
  "redis",
  async (ctx) => {
    const stores = await openRedisStores(`${REDIS_URL}?prefix=${run}-${namespaces++}`, {
      ...ctx.rules,
      now: ctx.now,
      secret: ctx.secret,
    });
    await stores.sessions.close();
    return stores.pairing;
  },
  { describe: available ? describe : describe.skip, it },
);
