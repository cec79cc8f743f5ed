/**
 * The Redis stores on a Redis Cluster (issue 15 item 4): real redis-server processes this test starts (three masters
 * created with `redis-cli --cluster create`, one replica for the store's slot), the conformance suite on a
 * `redis+cluster://` URL, then a failover (the slot's master killed) in the middle of approvals: no acknowledged
 * approval or revoke is lost and no one is admitted who was not approved.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { openStores } from "../src/stores/index.js";
import type { Stores } from "../src/stores/types.js";
import { describePairingStore } from "../src/testing/index.js";
import { ask, ClusterSetup, requireRedisBinaries } from "./support/redis-topology.js";
import { approvalsAcrossFailover } from "./support/redis-failover.js";

const available = await requireRedisBinaries("the Redis Cluster tests");
const suiteDescribe = available ? describe : describe.skip;
/** Every store of this file shares one hash tag, so they all live in the slot the replica was added for. */
const TAG = "gh-cluster";

suiteDescribe("redis+cluster://", () => {
  let setup: ClusterSetup | undefined;
  let next = 0;
  const url = (extra = ""): string => {
    if (!setup) throw new Error("the cluster did not start");
    return setup.url(`{${TAG}}:${next++}`, extra);
  };

  beforeAll(async () => {
    setup = await ClusterSetup.start(`{${TAG}}`);
  }, 40_000);
  afterAll(async () => {
    await setup?.stop();
  });

  describePairingStore(
    "redis+cluster",
    async (ctx) => {
      const stores = await openStores(url(), { ...ctx.rules, now: ctx.now, secret: ctx.secret });
      await stores.sessions.close();
      return stores.pairing;
    },
    { describe, it },
  );

  it("puts every key of a store in one slot: a prefix without a hash tag gets one", async () => {
    const topology = setup!;
    const stores = await openStores(topology.url("plain-prefix", "&waitReplicas=0"), { secret: randomBytes(32) });
    try {
      await stores.pairing.approve("telegram", await stores.pairing.generateCode("telegram", "slot-check"));
      await stores.sessions.bind("s-1", { userId: "u", role: "user" });
      const slot = Number(await ask(topology.masterPorts[0]!, ["CLUSTER", "KEYSLOT", "{plain-prefix}"]));
      let keys: string[] = [];
      for (const port of [...topology.masterPorts, topology.replicaPort]) {
        const role = String(await ask(port, ["ROLE"]).then((r) => (r as unknown[])[0]));
        if (role !== "master") continue;
        keys = keys.concat(((await ask(port, ["KEYS", "{plain-prefix}:*"])) as string[]) ?? []);
      }
      assert.ok(keys.length >= 3, `the store's keys are found under {plain-prefix}: (${keys.join(", ")})`);
      for (const key of keys)
        assert.equal(Number(await ask(topology.masterPorts[0]!, ["CLUSTER", "KEYSLOT", key])), slot, key);
    } finally {
      await stores.close();
    }
  });

  it("a failover in the middle of approvals loses no acknowledged approval or revoke and admits no one wrongly", async () => {
    const topology = setup!;
    const secret = randomBytes(32);
    const storeUrl = url();
    const open = (): Promise<Stores> => openStores(storeUrl, { secret, timeoutMs: 2000, maxPendingPerChannelType: 50 });
    await approvalsAcrossFailover({
      open,
      pauseReplica: () => topology.pauseReplica(),
      killMasterAndResumeReplica: () => topology.killMasterAndResumeReplica(),
      failedOver: () => topology.failedOver(),
      restartOldMaster: () => topology.restartOldMaster(),
    });
  }, 60_000);
});
