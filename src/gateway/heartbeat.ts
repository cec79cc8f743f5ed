import { hostname } from "node:os";
import type { LeaseKeeper } from "../core/lease-keeper.js";
import type { GatewayLeases } from "../core/leases.js";
import { INSTANCE_LEASE_PREFIX, type InstanceRecord } from "../core/instances.js";

/** What an instance writes: the leases it holds are read from the store by whoever lists instances. */
type Heartbeat = Omit<InstanceRecord, "leases">;

export interface HeartbeatOptions {
  version: string;
  url: () => string;
  channels: () => string[];
}

/**
 * This instance's heartbeat: a lease named `instance:<id>` that it holds while it runs, its cursor the instance's
 * record (host, pid, version, start time, URL, channels) rewritten every third of the lease time. When the
 * instance stops the lease is released; when it dies the lease expires, so `gatehouse status` lists live instances only.
 */
export function startHeartbeat(leases: GatewayLeases, options: HeartbeatOptions): LeaseKeeper {
  const startedAt = Date.now();
  const record = (): Heartbeat => ({
    id: leases.instanceId,
    host: hostname(),
    pid: process.pid,
    version: options.version,
    startedAt,
    url: options.url(),
    channels: options.channels(),
  });
  const keeper = leases.keeper(`${INSTANCE_LEASE_PREFIX}${leases.instanceId}`);
  keeper.run(async (held) => {
    const everyMs = Math.max(50, Math.floor(leases.ttlMs / 3));
    while (await held.commit(JSON.stringify(record()))) {
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
