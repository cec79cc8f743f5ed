/**
 * The Redis stores on a Redis Cluster (issue 15 item 4): real redis-server processes this test starts (three masters
 * created with `redis-cli --cluster create`, one replica for the store's slot), the conformance suite on a
 * `redis+cluster://` URL, then a failover (the slot's master killed) in the middle of approvals: no acknowledged
 * approval or revoke is lost and no one is admitted who was not approved.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import { openStores } from "../src/stores/index.js";
import { ask, ClusterSetup, requireRedisBinaries } from "./support/redis-topology.js";
import { itLosesNothingAcrossFailover, onRedisTopology } from "./support/redis-topology-suite.js";

const available = await requireRedisBinaries("the Redis Cluster tests");
const suiteDescribe = available ? describe : describe.skip;
/** Every store of this file shares one hash tag, so they all live in the slot the replica was added for. */
const TAG = "gh-cluster";

suiteDescribe("redis+cluster://", () => {
  const { topology, url } = onRedisTopology(
    "redis+cluster",
    () => ClusterSetup.start(`{${TAG}}`),
    (n) => `{${TAG}}:${n}`,
  );

  it("puts every key of a store in one slot: a prefix without a hash tag gets one", async () => {
    const cluster = topology();
    const stores = await openStores(cluster.url("plain-prefix", "&waitReplicas=0"), { secret: randomBytes(32) });
    try {
      await stores.pairing.approve("telegram", await stores.pairing.generateCode("telegram", "slot-check"));
      await stores.sessions.bind("s-1", { userId: "u", role: "user" });
      const slot = Number(await ask(cluster.masterPorts[0]!, ["CLUSTER", "KEYSLOT", "{plain-prefix}"]));
      let keys: string[] = [];
      for (const port of [...cluster.masterPorts, cluster.replicaPort]) {
        const role = String(await ask(port, ["ROLE"]).then((r) => (r as unknown[])[0]));
        if (role !== "master") continue;
        keys = keys.concat(((await ask(port, ["KEYS", "{plain-prefix}:*"])) as string[]) ?? []);
      }
      assert.ok(keys.length >= 3, `the store's keys are found under {plain-prefix}: (${keys.join(", ")})`);
      for (const key of keys)
        assert.equal(Number(await ask(cluster.masterPorts[0]!, ["CLUSTER", "KEYSLOT", key])), slot, key);
    } finally {
      await stores.close();
    }
  });

  itLosesNothingAcrossFailover(topology, url);
});
