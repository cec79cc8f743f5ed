import { leaseStoreOver, type LeaseState, type LeaseStore } from "../lease.js";
import type { Clock } from "../events.js";

/** Leases in this process: the memory backend is one process, so a Map (and one turn of the event loop) is atomic. */
export function createMemoryLeaseStore(now: Clock = Date.now): LeaseStore {
  const rows = new Map<string, LeaseState>();
  return leaseStoreOver(
    {
      atomically: async (name, decide) => {
        const next = decide(copy(rows.get(name)));
        if (next) rows.set(name, { ...next });
        return next;
      },
      read: async (name) => copy(rows.get(name)),
      liveAfter: async (at) =>
        [...rows.values()].filter((state) => state.expiresAt > at).map((state) => ({ ...state })),
      removeExpired: async (prefix, at) => {
        let removed = 0;
        for (const [name, state] of rows)
          if (name.startsWith(prefix) && state.expiresAt <= at) removed += Number(rows.delete(name));
        return removed;
      },
    },
    now,
  );
}

function copy(state: LeaseState | undefined): LeaseState | null {
  return state ? { ...state } : null;
}
