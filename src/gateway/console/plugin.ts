import { fastifyCookie } from "@fastify/cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AuthProtocol, GatewayRequest, Principal } from "../../protocols/types.js";
import { authenticate } from "../authenticate.js";
import { withDeadline } from "../../core/deadline.js";
import { errorBody, fromZodError, GatewayError, toGatewayError } from "../../core/errors.js";
import { OWNER_ROLES } from "../../core/identity-lists.js";
import { MemoryBudgetStore } from "../../stores/memory/budgets.js";
import type { BudgetStore, RateLimit } from "../../stores/budget.js";
import { gatewayRequest } from "../request-view.js";
import { checkSession, tokenOnlyRequest, type ConsoleAuthDeps } from "./auth.js";
import { CONSOLE_COOKIE, consoleSessionId } from "./cookie.js";
import { csrfProblem } from "./csrf.js";
import type { ConsoleSession } from "./sessions.js";
import { hasChatPage, registerConsole } from "../console-static.js";
import { withFields } from "../log-scope.js";

export interface ConsolePluginOptions extends ConsoleAuthDeps {
  /** The gateway's own auth (not the console wrapper): sign-in checks the presented token with it. */
  auth: AuthProtocol;
  /** Where the built console (index.html, app.js, app.css) lives; null when it has not been built. */
  staticDir: string | null;
  /** The channel types this gateway runs, told to the page with its session (no list of types is built into the page). */
  channelTypes: () => readonly string[];
  /** The store's budgets: sign-in attempts per address are counted there, for every instance at once. */
  budgets?: BudgetStore;
}

const loginBody = z.strictObject({ token: z.string().min(1, "token is required").max(4096) });

/** Pages may load only their own scripts and styles and talk only to this gateway (fetch and WebSocket). */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Sign-in attempts per network address: 10 at once, then one every 5 seconds (shared by every instance). */
const LOGIN_LIMIT: RateLimit = { capacity: 10, refillPerSecond: 0.2 };

function viewOf(request: FastifyRequest): GatewayRequest {
  return gatewayRequest({
    transport: "http",
    method: request.method,
    url: request.url,
    headers: request.headers,
    rawHeaders: request.raw.rawHeaders,
    remoteAddress: request.socket.remoteAddress,
  });
}

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const gatewayError = toGatewayError(error);
  return reply.code(gatewayError.status).send({ error: errorBody(gatewayError) });
}

/**
 * The owner's web console: the built page under /console (beside it the public webchat page, /chat), and the session
 * endpoints behind it.
 * `POST /console/login {token}` checks the token with the gateway's auth (owner/admin only) and sets a signed,
 * HttpOnly, SameSite=Strict cookie naming a server-side session; `GET /console/session` tells the page who it is and its
 * CSRF value; `POST /console/ws-ticket` issues a single-use ticket for the owner WebSocket; `POST /console/logout` ends it.
 */
export async function consolePlugin(app: FastifyInstance, options: ConsolePluginOptions): Promise<void> {
  const { sessions, signer, originPolicy, logger } = options;
  const budgets = options.budgets ?? new MemoryBudgetStore();
  // Scoped to this plugin; it also loads the cookie parser that the console auth wrapper uses for /api requests.
  await app.register(fastifyCookie, { secret: signer, hook: false });

  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
    reply.header("x-content-type-options", "nosniff");
    reply.header("x-frame-options", "DENY");
    reply.header("referrer-policy", "no-referrer");
    reply.header("cache-control", "no-store");
    return payload;
  });

  const cookieOptions = (request: FastifyRequest) => ({
    httpOnly: true,
    sameSite: "strict" as const,
    path: "/",
    secure: request.protocol === "https",
  });

  /** The session behind this request's cookie, after the CSRF rules and a fresh check of its token; throws otherwise. */
  async function requireSession(request: FastifyRequest): Promise<{ session: ConsoleSession; principal: Principal }> {
    const view = viewOf(request);
    const id = consoleSessionId(view, signer);
    const session = id === null ? null : await sessions.get(id);
    if (!session) throw new GatewayError("unauthenticated", "sign in to the console first");
    const problem = csrfProblem(view, session.csrf, originPolicy());
    if (problem !== null) {
      logger.warn("console request refused", { requestId: request.id, reason: problem, path: request.url });
      throw new GatewayError("forbidden", `request refused: ${problem}`);
    }
    const result = await checkSession(options.auth, options, session, view);
    if (!result.success || !result.userId || !result.role) {
      throw new GatewayError("unauthenticated", "the console session has ended; sign in again");
    }
    return { session, principal: { userId: result.userId, role: result.role } };
  }

  function takeLoginAttempt(address: string): Promise<boolean> {
    return withDeadline("budgets.take(console-login)", () => budgets.take(`console-login:${address}`, LOGIN_LIMIT));
  }

  const notBuilt = async (_request: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, new GatewayError("unavailable", "the console is not built: run `npm run build:web`"));
  if (options.staticDir !== null) {
    await registerConsole(app, options.staticDir);
  } else {
    app.get("/console", notBuilt);
    app.get("/console/", notBuilt);
  }
  if (options.staticDir === null || !hasChatPage(options.staticDir)) {
    app.get("/chat", notBuilt);
    app.get("/chat/", notBuilt);
  }

  app.post("/console/login", { bodyLimit: 8 * 1024 }, async (request, reply) => {
    try {
      const view = viewOf(request);
      const problem = csrfProblem(view, null, originPolicy());
      if (problem !== null) throw new GatewayError("forbidden", `sign-in refused: ${problem}`);
      if (!(await takeLoginAttempt(view.remoteAddress))) {
        throw new GatewayError("rate_limited", "too many sign-in attempts; wait a minute and try again");
      }
      const parsed = loginBody.safeParse(request.body ?? {});
      if (!parsed.success) throw fromZodError(parsed.error);
      const requestLogger = withFields(logger, { requestId: request.id });
      const principal = await authenticate(
        { auth: options.auth, logger: requestLogger },
        tokenOnlyRequest(parsed.data.token, view),
      );
      if (!principal) throw new GatewayError("unauthenticated", "that token was not accepted");
      if (!OWNER_ROLES.has(principal.role))
        throw new GatewayError("forbidden", "only an owner or admin token may sign in to the console");
      const session = await sessions.create(parsed.data.token);
      requestLogger.info("console sign-in", { userId: principal.userId, role: principal.role });
      reply.setCookie(CONSOLE_COOKIE, session.id, {
        ...cookieOptions(request),
        signed: true,
        maxAge: sessions.cookieMaxAgeSeconds,
      });
      return reply.send({ principal, csrf: session.csrf, channelTypes: options.channelTypes() });
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.get("/console/session", async (request, reply) => {
    try {
      const { session, principal } = await requireSession(request);
      return reply.send({ principal, csrf: session.csrf, channelTypes: options.channelTypes() });
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.post("/console/ws-ticket", { bodyLimit: 1024 }, async (request, reply) => {
    try {
      const { session } = await requireSession(request);
      return reply.send(sessions.issueTicket(session));
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.post("/console/logout", { bodyLimit: 1024 }, async (request, reply) => {
    try {
      const { session } = await requireSession(request);
      await sessions.end(session.ref);
    } catch (error) {
      const gatewayError = toGatewayError(error);
      // No live session: signing out is already done; anything else (CSRF, host) is refused.
      if (gatewayError.code !== "unauthenticated") return sendError(reply, gatewayError);
    }
    reply.clearCookie(CONSOLE_COOKIE, cookieOptions(request));
    return reply.send({ signedOut: true });
  });
}
