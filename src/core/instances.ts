import type { LeaseState, LeaseStore } from "../stores/lease.js";

/** The lease (and heartbeat) name of one gateway instance is this prefix and its id. */
export const INSTANCE_LEASE_PREFIX = "instance:";

/**
 * How long the heartbeat of an instance that died without stopping (SIGKILL, a lost host) is kept and listed as stale
 * before it is pruned from the store: a day, so a crash overnight is still visible in the morning's `gatehouse status`.
 */
export const INSTANCE_RETENTION_MS = 24 * 3_600_000;

/** What a running gateway instance says about itself in its heartbeat. */
export interface InstanceRecord {
  id: string;
  host: string;
  pid: number;
  version: string;
  /** Epoch milliseconds. */
  startedAt: number;
  /** Epoch milliseconds of its latest heartbeat (its start time in a heartbeat that does not say). */
  seenAt: number;
  /** Where its HTTP API and console listen. */
  url: string;
  /** The channels it runs. */
  channels: string[];
  /** The leases it holds (platform connections it owns), read from the store's live leases. */
  leases: string[];
}

/** An instance as `gatehouse status` lists it: live, or stale (its heartbeat ran out without a clean stop). */
export interface ListedInstance extends InstanceRecord {
  stale: boolean;
}

function recordOf(cursor: string | null): Omit<InstanceRecord, "leases"> | null {
  if (cursor === null) return null;
  try {
    const value = JSON.parse(cursor) as Partial<InstanceRecord>;
    if (typeof value.id !== "string" || typeof value.pid !== "number" || typeof value.url !== "string") return null;
    const startedAt = Number(value.startedAt ?? 0);
    return {
      id: value.id,
      host: String(value.host ?? ""),
      pid: value.pid,
      version: String(value.version ?? ""),
      startedAt,
      seenAt: Number(value.seenAt ?? startedAt),
      url: value.url,
      channels: Array.isArray(value.channels) ? value.channels.map(String) : [],
    };
  } catch {
    return null;
  }
}

/** The instances among `states`, each with the live leases (other than heartbeats) its id holds, oldest first. */
function instancesAmong(states: LeaseState[], at: number): ListedInstance[] {
  const instances: ListedInstance[] = [];
  for (const state of states) {
    if (!state.name.startsWith(INSTANCE_LEASE_PREFIX)) continue;
    const record = recordOf(state.cursor);
    if (!record) continue;
    const leases = states
      .filter((lease) => lease.holder === record.id && lease.expiresAt > at)
      .filter((lease) => !lease.name.startsWith(INSTANCE_LEASE_PREFIX))
      .map((lease) => lease.name);
    instances.push({ ...record, leases, stale: state.expiresAt <= at });
  }
  return instances.sort((a, b) => a.startedAt - b.startedAt);
}

/** The instances whose heartbeat is live on this store, oldest first, each with the leases it holds now. */
export async function liveInstances(store: LeaseStore, now: number = Date.now()): Promise<InstanceRecord[]> {
  return instancesAmong(await store.live(""), now).map(({ stale: _stale, ...record }) => record);
}

/** Removes the heartbeats of instances that died more than `retentionMs` ago; how many went. */
export function pruneInstances(
  store: LeaseStore,
  now: number = Date.now(),
  retentionMs: number = INSTANCE_RETENTION_MS,
): Promise<number> {
  return store.prune(INSTANCE_LEASE_PREFIX, now - retentionMs);
}

/**
 * What `gatehouse status` shows: the live instances and, marked stale, those whose heartbeat ran out (killed, host
 * lost) within the retention; older heartbeats are pruned from the store first. A cleanly stopped instance released
 * its heartbeat, so it is not listed.
 */
export async function listInstances(
  store: LeaseStore,
  now: number = Date.now(),
  retentionMs: number = INSTANCE_RETENTION_MS,
): Promise<ListedInstance[]> {
  await pruneInstances(store, now, retentionMs);
  return instancesAmong(await store.recent("", now - retentionMs), now);
}
