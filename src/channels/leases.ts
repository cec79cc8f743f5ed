import { randomBytes } from "node:crypto";
import type { GatewayContext } from "../core/context.js";
import { GatewayLeases } from "../core/leases.js";
import { createMemoryLeaseStore } from "../stores/memory/leases.js";

const local = new WeakMap<GatewayContext, GatewayLeases>();

/**
 * The gateway's leases, shared by every instance on its store; a gateway built without a lease store (custom injected
 * stores) gets leases in this process only, so each such instance takes its platform connections, and the log says so.
 */
export function leasesFor(ctx: GatewayContext): GatewayLeases {
  if (ctx.leases) return ctx.leases;
  let leases = local.get(ctx);
  if (!leases) {
    ctx.logger.warn(
      "the store has no leases: every gateway instance on it takes the platform connections (run one instance)",
    );
    leases = new GatewayLeases({
      store: createMemoryLeaseStore(),
      instanceId: randomBytes(6).toString("hex"),
      logger: () => ctx.logger,
    });
    local.set(ctx, leases);
  }
  return leases;
}
