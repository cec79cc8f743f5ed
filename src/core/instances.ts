import type { LeaseStore } from "../stores/lease.js";

/** The lease (and heartbeat) name of one gateway instance is this prefix and its id. */
export const INSTANCE_LEASE_PREFIX = "instance:";

/** What a running gateway instance says about itself in its heartbeat. */
export interface InstanceRecord {
  id: string;
  host: string;
  pid: number;
  version: string;
  /** Epoch milliseconds. */
  startedAt: number;
  /** Where its HTTP API and console listen. */
  url: string;
  /** The channels it runs. */
  channels: string[];
  /** The leases it holds (platform connections it owns), read from the store's live leases. */
  leases: string[];
}

function recordOf(cursor: string | null): Omit<InstanceRecord, "leases"> | null {
  if (cursor === null) return null;
  try {
    const value = JSON.parse(cursor) as Partial<InstanceRecord>;
    if (typeof value.id !== "string" || typeof value.pid !== "number" || typeof value.url !== "string") return null;
    return {
      id: value.id,
      host: String(value.host ?? ""),
      pid: value.pid,
      version: String(value.version ?? ""),
      startedAt: Number(value.startedAt ?? 0),
      url: value.url,
      channels: Array.isArray(value.channels) ? value.channels.map(String) : [],
    };
  } catch {
    return null;
  }
}

/** The instances whose heartbeat is live on this store, oldest first, each with the leases it holds now. */
export async function liveInstances(store: LeaseStore): Promise<InstanceRecord[]> {
  const live = await store.live("");
  const instances: InstanceRecord[] = [];
  for (const state of live) {
    if (!state.name.startsWith(INSTANCE_LEASE_PREFIX)) continue;
    const record = recordOf(state.cursor);
    if (!record) continue;
    const leases = live
      .filter((lease) => lease.holder === record.id && !lease.name.startsWith(INSTANCE_LEASE_PREFIX))
      .map((lease) => lease.name);
    instances.push({ ...record, leases });
  }
  return instances.sort((a, b) => a.startedAt - b.startedAt);
}
