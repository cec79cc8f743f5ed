import type { GatewayRequest, Principal } from "../protocols/types.js";
import { safeCheck } from "../auth/result.js";
import type { GatewayContext } from "../core/context.js";
import { STORE_DEADLINE_MS, withDeadline } from "../core/deadline.js";

export interface Authenticated {
  principal: Principal;
  /** What the backend said besides who: e.g. `backend`, `tokenId`. Never shown to clients. */
  metadata: Record<string, unknown>;
}

/**
 * Runs the configured auth backend and returns the principal it vouches for, with its metadata, or null. A throw, a
 * malformed result or a backend slower than the deadline is a refusal (fail closed). Roles come only from here.
 */
export async function authenticateDetailed(
  ctx: Pick<GatewayContext, "auth" | "logger">,
  request: GatewayRequest,
  deadlineMs = STORE_DEADLINE_MS,
): Promise<Authenticated | null> {
  try {
    const result = await withDeadline("auth.check", () => safeCheck(ctx.auth, request, ctx.logger), deadlineMs);
    if (!result.success || !result.userId || !result.role) return null;
    return { principal: { userId: result.userId, role: result.role }, metadata: result.metadata };
  } catch (error) {
    ctx.logger.warn("auth check did not answer in time; request denied", {
      error: error instanceof Error ? error.message : "unknown",
    });
    return null;
  }
}

/** The principal the configured auth backend vouches for, or null (see authenticateDetailed). */
export async function authenticate(
  ctx: Pick<GatewayContext, "auth" | "logger">,
  request: GatewayRequest,
  deadlineMs = STORE_DEADLINE_MS,
): Promise<Principal | null> {
  return (await authenticateDetailed(ctx, request, deadlineMs))?.principal ?? null;
}
