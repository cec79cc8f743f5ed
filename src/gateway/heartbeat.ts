import { hostname } from "node:os";
import type { LeaseKeeper } from "../core/lease-keeper.js";
import type { GatewayLeases } from "../core/leases.js";
import { INSTANCE_LEASE_PREFIX, pruneInstances, type InstanceRecord } from "../core/instances.js";

/** How often a running instance removes the heartbeats of instances that died more than the retention ago. */
const PRUNE_EVERY_MS = 10 * 60_000;

/** What an instance writes: the leases it holds are read from the store by whoever lists instances. */
type Heartbeat = Omit<InstanceRecord, "leases">;

export interface HeartbeatOptions {
  version: string;
  url: () => string;
  channels: () => string[];
}

/**
 * This instance's heartbeat: a lease named `instance:<id>` that it holds while it runs, its cursor the instance's
 * record (host, pid, version, start time, time of this heartbeat, URL, channels) rewritten every third of the lease
 * time. When the instance stops the lease is released; when it dies the lease expires and `gatehouse status` lists it
 * as stale until the retention (INSTANCE_RETENTION_MS) has passed. The holder also prunes older heartbeats before its first
 * heartbeat and every PRUNE_EVERY_MS after (best effort: a store that cannot answer now is asked again next time).
 */
export function startHeartbeat(leases: GatewayLeases, options: HeartbeatOptions): LeaseKeeper {
  const startedAt = Date.now();
  const record = (): Heartbeat => ({
    id: leases.instanceId,
    host: hostname(),
    pid: process.pid,
    version: options.version,
    startedAt,
    seenAt: Date.now(),
    url: options.url(),
    channels: options.channels(),
  });
  const keeper = leases.keeper(`${INSTANCE_LEASE_PREFIX}${leases.instanceId}`);
  keeper.run(async (held) => {
    const everyMs = Math.max(50, Math.floor(leases.ttlMs / 3));
    let prunedAt = Number.NEGATIVE_INFINITY;
    for (;;) {
      // Pruning comes before the heartbeat it goes with, so by the time this instance is listed it has pruned once.
      if (Date.now() - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = Date.now();
        await pruneInstances(leases.store).catch(() => 0);
      }
      if (!(await held.commit(JSON.stringify(record())))) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          held.signal.removeEventListener("abort", done);
          resolve();
        };
        // One listener per wait, removed when the wait ends, so a long-lived lease does not pile them up.
        const timer = setTimeout(done, everyMs);
        held.signal.addEventListener("abort", done, { once: true });
      });
    }
  });
  return keeper;
}
