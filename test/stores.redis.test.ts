import { afterAll, describe, it } from "vitest";
import { openRedisStores } from "../src/stores/redis/index.js";
import { describePairingStore, describeSessionBindingStore } from "../src/testing/index.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const available = await requireRedis();
const run = uniquePrefix();
let next = 0;
/** A fresh, empty namespace for every store the suites open. */
const freshUrl = (): string => `${REDIS_URL}?prefix=${run}-${next++}`;
const suiteDescribe = available ? describe : describe.skip;

describePairingStore(
  "redis",
  async (ctx) => {
    const stores = await openRedisStores(freshUrl(), { ...ctx.rules, now: ctx.now, secret: ctx.secret });
    await stores.sessions.close();
    return stores.pairing;
  },
  { describe: suiteDescribe, it, sharedUrl: freshUrl },
);

describeSessionBindingStore(
  "redis",
  async (ctx) => {
    const stores = await openRedisStores(freshUrl(), {
      now: ctx.now,
      secret: ctx.secret,
      sessionIdleTtlMs: ctx.idleTtlMs,
    });
    await stores.pairing.close();
    return stores.sessions;
  },
  { describe: suiteDescribe, it },
);

afterAll(async () => {
  if (available) await deleteKeys(`${run}-`);
});
