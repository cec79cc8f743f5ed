import type { GatewayRequest, Principal } from "../protocols/types.js";
import { safeCheck } from "../auth/result.js";
import type { GatewayContext } from "./context.js";
import { STORE_DEADLINE_MS, withDeadline } from "./deadline.js";

/**
 * Runs the configured auth backend and returns the principal it vouches for, or null. A throw, a malformed result or a
 * backend slower than the deadline is a refusal (fail closed). Roles come only from here, never from the client.
 */
export async function authenticate(
  ctx: Pick<GatewayContext, "auth" | "logger">,
  request: GatewayRequest,
  deadlineMs = STORE_DEADLINE_MS,
): Promise<Principal | null> {
  try {
    const result = await withDeadline("auth.check", () => safeCheck(ctx.auth, request, ctx.logger), deadlineMs);
    if (!result.success || !result.userId || !result.role) return null;
    return { userId: result.userId, role: result.role };
  } catch (error) {
    ctx.logger.warn("auth check did not answer in time; request denied", { error: error instanceof Error ? error.message : "unknown" });
    return null;
  }
}
