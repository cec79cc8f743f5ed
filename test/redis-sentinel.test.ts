/**
 * The Redis stores behind Sentinel (issue 15 item 4): real redis-server processes this test starts (a master, a
 * replica, three Sentinels), the conformance suites on a `redis+sentinel://` URL, then a failover (the master killed)
 * in the middle of approvals: no acknowledged approval or revoke is lost and no one is admitted who was not approved.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterAll, describe, it } from "vitest";
import { openStores } from "../src/stores/index.js";
import type { Stores } from "../src/stores/types.js";
import { describeApprovalStore, describeSessionBindingStore } from "../src/testing/index.js";
import { requireRedisBinaries, SentinelSetup } from "./support/redis-topology.js";
import { itLosesNothingAcrossFailover, onRedisTopology } from "./support/redis-topology-suite.js";

const available = await requireRedisBinaries("the Redis Sentinel tests");
const suiteDescribe = available ? describe : describe.skip;

suiteDescribe("redis+sentinel://", () => {
  const { topology, url } = onRedisTopology(
    "redis+sentinel",
    () => SentinelSetup.start(),
    (n) => `sentinel-${n}`,
  );

  describeSessionBindingStore(
    "redis+sentinel",
    async (ctx) => {
      const stores = await openStores(url(), { now: ctx.now, secret: ctx.secret, sessionIdleTtlMs: ctx.idleTtlMs });
      await stores.pairing.close();
      return stores.sessions;
    },
    { describe, it },
  );

  const opened: Stores[] = [];
  afterAll(async () => {
    for (const stores of opened.splice(0)) await stores.close();
  });
  describeApprovalStore(
    "redis+sentinel",
    async (now) => {
      const shared = url();
      const secret = randomBytes(32);
      const first = await openStores(shared, { now, secret });
      const second = await openStores(shared, { now, secret });
      opened.push(first, second);
      return [first.approvals!, second.approvals!];
    },
    { describe, it },
  );

  it("refuses a sentinel URL without the master's name, saying so", async () => {
    await assert.rejects(
      openStores(url().replace(/name=mymaster&/, ""), { secret: randomBytes(32) }),
      /\?name=<master name>/,
    );
  });

  itLosesNothingAcrossFailover(topology, url);
});
