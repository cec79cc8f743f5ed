/**
 * What the Sentinel and the Cluster test files share: the topology started before a describe block's tests and
 * stopped after, a fresh store URL on it per call, the pairing conformance suite on it, and the failover test.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { openStores } from "../../src/stores/index.js";
import type { Stores } from "../../src/stores/types.js";
import { describePairingStore } from "../../src/testing/index.js";
import { approvalsAcrossFailover, type FailoverTopology } from "./redis-failover.js";

/** A replicated Redis this test file runs (SentinelSetup, ClusterSetup in redis-topology.ts). */
export interface RedisTopology extends Omit<FailoverTopology, "open"> {
  url(prefix: string, extra?: string): string;
  stop(): Promise<void>;
}

/**
 * Inside a describe block: starts the topology before its tests and stops it after, and runs the pairing conformance
 * suite on it (as `scheme`). `url()` names a fresh store (`prefix(n)` for the n-th), `topology()` is the running one.
 */
export function onRedisTopology<T extends RedisTopology>(
  scheme: string,
  start: () => Promise<T>,
  prefix: (n: number) => string,
): { topology: () => T; url: (extra?: string) => string } {
  let setup: T | undefined;
  let next = 0;
  const topology = (): T => {
    if (!setup) throw new Error(`the ${scheme} set-up did not start`);
    return setup;
  };
  const url = (extra = ""): string => topology().url(prefix(next++), extra);

  beforeAll(async () => {
    setup = await start();
  }, 40_000);
  afterAll(async () => {
    await setup?.stop();
  });

  describePairingStore(
    scheme,
    async (ctx) => {
      const stores = await openStores(url(), { ...ctx.rules, now: ctx.now, secret: ctx.secret });
      await stores.sessions.close();
      return stores.pairing;
    },
    { describe, it },
  );
  return { topology, url };
}

/** The failover in the middle of approvals (redis-failover.ts); last in its block, as it leaves the topology failed over. */
export function itLosesNothingAcrossFailover(topology: () => RedisTopology, url: () => string): void {
  it("a failover in the middle of approvals loses no acknowledged approval or revoke and admits no one wrongly", async () => {
    const running = topology();
    const secret = randomBytes(32);
    const storeUrl = url();
    const open = (): Promise<Stores> => openStores(storeUrl, { secret, timeoutMs: 2000, maxPendingPerChannelType: 50 });
    await approvalsAcrossFailover({
      open,
      pauseReplica: () => running.pauseReplica(),
      killMasterAndResumeReplica: () => running.killMasterAndResumeReplica(),
      failedOver: () => running.failedOver(),
      restartOldMaster: () => running.restartOldMaster(),
    });
  }, 60_000);
}
