import type { AuthProtocol, AuthResult, GatewayRequest } from "../../protocols/types.js";
import { allow, deny } from "../../auth/result.js";
import { headerValue, hasHeader } from "../../auth/headers.js";
import { authenticateDetailed } from "../authenticate.js";
import type { GatewayLogger } from "../../core/context.js";
import { OWNER_ROLES } from "../../core/identity-lists.js";
import type { OriginPolicy } from "../origin-policy.js";
import { consoleSessionId, type CookieSigner } from "./cookie.js";
import { csrfProblem } from "./csrf.js";
import { isTicketShaped, type ConsoleSession, type ConsoleSessions } from "./sessions.js";

export interface ConsoleAuthDeps {
  sessions: ConsoleSessions;
  signer: CookieSigner;
  /** The gateway's Host/Origin allowlist (a getter: it is known once the gateway listens). */
  originPolicy: () => OriginPolicy;
  logger: GatewayLogger;
}

/**
 * The request the stored token is checked with: the token as a Bearer header, the Host, and nothing else — no peer
 * address, no forwarding or identity headers — so only the token can vouch (never loopback or a proxy header).
 */
export function tokenOnlyRequest(token: string, request: GatewayRequest): GatewayRequest {
  const host = headerValue(request, "host");
  const headers: GatewayRequest["headers"] = { authorization: `Bearer ${token}` };
  if (host !== undefined) headers.host = host;
  return {
    transport: request.transport,
    method: request.method,
    url: request.url,
    headers,
    remoteAddress: "",
    query: {},
  };
}

/**
 * Checks a console session's token with the gateway's own auth; the session survives only while the token still
 * names an owner or admin. A refusal ends the session. The metadata names the session (`consoleSession`, its ref) and,
 * when the token backend says, the token (`tokenId`), so sockets opened from it can be closed when either ends.
 */
export async function checkSession(
  inner: AuthProtocol,
  deps: ConsoleAuthDeps,
  session: ConsoleSession,
  request: GatewayRequest,
): Promise<AuthResult> {
  const checked = await authenticateDetailed(
    { auth: inner, logger: deps.logger },
    tokenOnlyRequest(session.token, request),
  );
  if (!checked || !OWNER_ROLES.has(checked.principal.role)) {
    await deps.sessions.end(session.ref);
    return deny("console session no longer valid", "console");
  }
  const tokenId = checked.metadata.tokenId;
  return allow(checked.principal.userId, checked.principal.role, {
    backend: "console",
    consoleSession: session.ref,
    ...(typeof tokenId === "string" ? { tokenId } : {}),
  });
}

/**
 * Wraps the gateway's auth so the admin API and the WebSocket also accept the console:
 * - HTTP without an Authorization header but with a valid console cookie: the session's token is re-checked, after the
 *   CSRF rules (allowed Host and Origin; state-changing methods need the X-Gatehouse-CSRF value). A cookie that fails
 *   them is refused outright, never passed on.
 * - WebSocket connect whose `token` is a console ticket: redeemed once, then the session's token is re-checked.
 *   The socket presents the same connect request again before every privileged call (and on heartbeats): that request
 *   object (which no client can forge: it is made by the gateway) stands for the session from then on, and is
 *   accepted only while the session lives and its token still names an owner or admin.
 * Everything else goes to the wrapped auth unchanged.
 */
export function withConsoleAuth(inner: AuthProtocol, deps: ConsoleAuthDeps): AuthProtocol & { name: string } {
  const redeemed = new WeakMap<GatewayRequest, string>();
  return {
    name: "console",
    async check(request: GatewayRequest): Promise<AuthResult> {
      if (request.transport === "ws") {
        const ref = redeemed.get(request);
        if (ref !== undefined) {
          const session = await deps.sessions.byRef(ref);
          if (!session) return deny("console session ended", "console");
          return checkSession(inner, deps, session, request);
        }
        const token = request.connectParams?.token;
        if (!isTicketShaped(token)) return inner.check(request);
        const session = await deps.sessions.redeemTicket(token);
        if (!session) return deny("unknown, used or expired console ticket", "console");
        redeemed.set(request, session.ref);
        return checkSession(inner, deps, session, request);
      }
      if (hasHeader(request, "authorization")) return inner.check(request);
      const sessionId = consoleSessionId(request, deps.signer);
      const session = sessionId === null ? null : await deps.sessions.get(sessionId);
      if (!session) return inner.check(request);
      const problem = csrfProblem(request, session.csrf, deps.originPolicy());
      if (problem !== null) {
        deps.logger.warn("console request refused", { reason: problem, method: request.method });
        return deny(problem, "console");
      }
      return checkSession(inner, deps, session, request);
    },
  };
}
