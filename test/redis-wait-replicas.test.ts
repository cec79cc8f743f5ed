/**
 * `waitReplicas` is the same option on both doors of the Redis stores: a URL (`?waitReplicas=`, or the option of
 * openRedisStores) and a node-redis client of the user's (createRedisStores). On a real master and replica this test
 * starts: with it, an approval is reported done only once the replica holds it, and fails closed (store unavailable)
 * while the replica is cut off; without it (the default for one server and for a user's client) it does not wait.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, it } from "vitest";
import { StoreUnavailableError } from "../src/pairing/errors.js";
import { createRedisStores, openRedisStores } from "../src/stores/redis/index.js";
import type { Stores } from "../src/stores/types.js";
import { PrivateRedis, uniquePrefix } from "./redis-support.js";
import { ask, replicationInfo, requireRedisBinaries, waitFor } from "./support/redis-topology.js";

const available = await requireRedisBinaries("the Redis waitReplicas tests");
const secret = randomBytes(32);
/** WAIT gets half of it: a cut-off replica is noticed within half a second. */
const timeoutMs = 1000;

describe.skipIf(!available)("redis waitReplicas on both doors", () => {
  let master: PrivateRedis;
  let replica: PrivateRedis;
  /** The user's own node-redis client, on the master. */
  let client: ReturnType<typeof createClient>;
  const opened: Stores[] = [];

  const inSync = (): Promise<boolean> =>
    waitFor(
      "the replica in sync",
      async () => (await replicationInfo(replica.port)).get("master_link_status") === "up",
    );
  /** Nothing the master writes from now on reaches the replica (frozen, its link cut). */
  const cutReplica = async (): Promise<void> => {
    await inSync();
    replica.pause();
    await ask(master.port, ["CLIENT", "KILL", "TYPE", "replica"]);
  };
  const restoreReplica = async (): Promise<void> => {
    replica.resume();
    await inSync();
  };

  beforeAll(async () => {
    [master, replica] = await Promise.all([PrivateRedis.start(), PrivateRedis.start()]);
    await ask(replica.port, ["REPLICAOF", "127.0.0.1", String(master.port)]);
    await inSync();
    client = createClient({ url: master.url, disableOfflineQueue: true });
    client.on("error", () => {});
    await client.connect();
  }, 30_000);
  afterAll(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    await client?.close();
    replica?.resume();
    await Promise.all([replica?.stop(), master?.stop()]);
  });

  const doors: [string, (prefix: string, waitReplicas?: number) => Promise<Stores>][] = [
    [
      "openRedisStores(url?waitReplicas=)",
      (prefix, wait) =>
        openRedisStores(`${master.url}?prefix=${prefix}${wait === undefined ? "" : `&waitReplicas=${wait}`}`, {
          secret,
          timeoutMs,
        }),
    ],
    [
      "openRedisStores(url, { waitReplicas })",
      (prefix, wait) => openRedisStores(`${master.url}?prefix=${prefix}`, { secret, timeoutMs, waitReplicas: wait }),
    ],
    [
      "createRedisStores(client, { waitReplicas })",
      (prefix, wait) => createRedisStores(client, { secret, timeoutMs, keyPrefix: prefix, waitReplicas: wait }),
    ],
  ];

  it.each(doors)(
    "%s: with 1, a decision is done once the replica holds it, and fails closed without one",
    async (_, open) => {
      const prefix = uniquePrefix();
      const stores = await open(prefix, 1);
      opened.push(stores);
      const first = await stores.pairing.generateCode("telegram", "first");
      assert.equal(await stores.pairing.approve("telegram", first), true);
      // Reported done, so the replica has it already (read there, not on the master).
      assert.equal(Number(await ask(replica.port, ["HEXISTS", `${prefix}:paired`, "telegram:first"])), 1);

      const second = await stores.pairing.generateCode("telegram", "second");
      await cutReplica();
      try {
        await assert.rejects(
          stores.pairing.approve("telegram", second),
          (error: Error) =>
            error instanceof StoreUnavailableError && /only 0 of 1 replicas acknowledged/.test(String(error.cause)),
        );
      } finally {
        await restoreReplica();
      }
    },
  );

  it.each(doors)("%s: without it, one server's default (0) does not wait for a replica", async (_, open) => {
    const stores = await open(uniquePrefix());
    opened.push(stores);
    const code = await stores.pairing.generateCode("telegram", "solo");
    await cutReplica();
    try {
      assert.equal(await stores.pairing.approve("telegram", code), true);
    } finally {
      await restoreReplica();
    }
  });

  it("refuses a bad value, or two different ones, saying which", async () => {
    await assert.rejects(createRedisStores(client, { secret, waitReplicas: -1 }), /waitReplicas must be a whole/);
    await assert.rejects(
      openRedisStores(`${master.url}?waitReplicas=1`, { secret, waitReplicas: 2 }),
      /waitReplicas given twice and differently/,
    );
    await assert.rejects(openRedisStores(master.url, { secret, waitReplicas: 1.5 }), /waitReplicas must be a whole/);
  });
});
