import { liveInstances } from "../../src/core/instances.js";
import type { Stores } from "../../src/stores/types.js";

/**
 * The pid of the live instance that holds the lease `name` now, as an operator would read it from the store; 0 when no
 * one holds it, the lease has expired, or its holder is not among the live instances.
 */
export async function leaseHolderPid(stores: Stores, name: string): Promise<number> {
  const leases = stores.leases;
  if (!leases) throw new Error("this store keeps no leases: the lease holder cannot be read");
  const lease = await leases.current(name);
  if (!lease || lease.expiresAt <= Date.now()) return 0;
  return (await liveInstances(leases)).find((i) => i.id === lease.holder)?.pid ?? 0;
}
