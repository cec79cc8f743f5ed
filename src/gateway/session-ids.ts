import { randomBytes } from "node:crypto";
import type { Principal } from "../protocols/types.js";
import type { GatewayContext } from "../core/context.js";
import { withDeadline } from "../core/deadline.js";

/** A server-minted session id: 192 bits from the CSPRNG, base64url. Client-chosen ids are never accepted. */
export function mintSessionId(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * The session id for a (re)connecting principal: the requested one only when it is bound to this very principal
 * (same userId and role), else a fresh one. The binding is (re)written either way.
 */
export async function bindSession(ctx: GatewayContext, principal: Principal, requested?: string): Promise<string> {
  let sessionId = mintSessionId();
  if (requested !== undefined) {
    const bound = await withDeadline("sessions.lookup", () => ctx.sessions.lookup(requested));
    if (bound && bound.userId === principal.userId && bound.role === principal.role) sessionId = requested;
  }
  await withDeadline("sessions.bind", () => ctx.sessions.bind(sessionId, principal));
  return sessionId;
}
