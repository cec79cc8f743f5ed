import type { LeaseStore } from "../stores/lease.js";
import { LeaseKeeper } from "./lease-keeper.js";
import type { GatewayLogger } from "./logger.js";

/** Default lease time: another instance takes over a dead holder's platform connection within this (renewed every third). */
export const DEFAULT_LEASE_TTL_MS = 15_000;

export interface GatewayLeasesOptions {
  store: LeaseStore;
  /** This gateway instance (the holder id of its leases and heartbeat). */
  instanceId: string;
  ttlMs?: number;
  logger: () => GatewayLogger;
}

/** The leases of one gateway instance: a keeper for each platform connection it may own, and its heartbeat. */
export class GatewayLeases {
  readonly instanceId: string;
  readonly ttlMs: number;
  readonly store: LeaseStore;

  constructor(private readonly options: GatewayLeasesOptions) {
    this.store = options.store;
    this.instanceId = options.instanceId;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  }

  /** A keeper for `name` held by this instance (see LeaseKeeper); `fields` go on its log lines. */
  keeper(name: string, fields: Record<string, unknown> = {}): LeaseKeeper {
    return new LeaseKeeper(this.store, name, this.instanceId, {
      ttlMs: this.ttlMs,
      logger: this.options.logger,
      fields,
    });
  }
}
