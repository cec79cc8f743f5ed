import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import type { Principal } from "../protocols/types.js";
import { authenticate } from "./authenticate.js";
import type { GatewayContext } from "../core/context.js";
import { GatewayError, toGatewayError } from "../core/errors.js";
import { registerAdminRoutes } from "./admin-routes.js";
import { registerApprovalRoutes } from "./approvals/routes.js";
import { registerHealthRoute } from "./health.js";
import { gatewayRequest, isLocalSocket } from "./request-view.js";
import { DEFAULT_BODY_LIMIT, sendError, type HttpDeps } from "./http-deps.js";
import { newRequestId, withFields } from "./log-scope.js";
import { registerMetricsRoute } from "./metrics/route.js";

export { DEFAULT_BODY_LIMIT, sendError, type HttpDeps, type HttpServerOptions } from "./http-deps.js";

/**
 * The fastify app: /healthz, the admin API under /api and /metrics (authenticated in onRequest, before any body is parsed, so an
 * unauthenticated client gets 401 whatever it sent), JSON errors `{ error: { code, message } }` everywhere.
 */
export function createHttpServer(deps: Omit<HttpDeps, "principalOf">): FastifyInstance {
  const app = Fastify({
    ...(deps.log ? { loggerInstance: deps.log } : { logger: false }),
    // Every request gets a random id, in each of its log lines (`requestId`) and in the X-Request-Id response header.
    genReqId: newRequestId,
    logController: new LogController({ requestIdLogLabel: "requestId" }),
    bodyLimit: deps.options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    // A URL fastify cannot decode (`%FF`, a lone `%`) gets our JSON error shape too, without echoing the URL back.
    frameworkErrors: (_error, _request, reply) =>
      sendError(reply, new GatewayError("invalid_request", "the request URL is not valid (bad percent-encoding)")),
  });
  // JSON only: a text/plain body (what a cross-site form can send without a preflight) is refused with 415.
  app.removeContentTypeParser("text/plain");
  const principals = new WeakMap<FastifyRequest, Principal>();
  const scoped = new WeakMap<FastifyRequest, GatewayContext>();
  const full: HttpDeps = {
    ...deps,
    // Whatever the gateway logs while handling a request (its auth, its handler, its error) carries the request's id.
    context(request) {
      const ctx = deps.context();
      if (!request) return ctx;
      let own = scoped.get(request);
      if (!own) {
        own = { ...ctx, logger: withFields(ctx.logger, { requestId: request.id }) };
        scoped.set(request, own);
      }
      return own;
    },
    principalOf(request) {
      const principal = principals.get(request);
      if (!principal) throw new GatewayError("unauthenticated", "authentication required");
      return principal;
    },
  };

  app.addHook("onRequest", (request, reply, done) => {
    void reply.header("x-request-id", request.id);
    done();
  });
  app.addHook("onRequest", async (request, reply) => {
    // Decide by the matched route, not the raw URL: `/%61pi/...` routes to /api/... too.
    const route = request.routeOptions.url ?? "";
    if (!route.startsWith("/api/") && !request.url.startsWith("/api/") && route !== "/metrics") return;
    const policy = deps.originPolicy();
    if (!policy.isOriginAllowed(request.headers.origin)) {
      return sendError(reply, new GatewayError("origin_not_allowed", "requests from this Origin are not allowed"));
    }
    const local = isLocalSocket(request.raw.socket);
    // No DNS-rebinding page can reach the owner-only Unix socket; its clients send whatever Host they like.
    if (!local && !policy.isHostAllowed(request.headers.host)) {
      return sendError(reply, new GatewayError("origin_not_allowed", "requests for this Host are not allowed"));
    }
    const principal = await authenticate(
      full.context(request),
      gatewayRequest({
        transport: "http",
        method: request.method,
        url: request.url,
        headers: request.headers,
        rawHeaders: request.raw.rawHeaders,
        remoteAddress: request.raw.socket.remoteAddress,
        socket: request.raw.socket,
      }),
    );
    if (!principal) {
      return sendError(
        reply,
        new GatewayError("unauthenticated", "authentication required: send Authorization: Bearer <token>"),
      );
    }
    principals.set(request, principal);
  });

  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendError(
      reply,
      fromFrameworkError(error, () => full.context(request)),
    ),
  );
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new GatewayError("not_found", `no route ${request.method} ${request.url.split("?")[0]}`)),
  );

  // Someone opening the gateway's address in a browser wants the console.
  app.get("/", (_request, reply) => reply.redirect("/console", 302));
  registerHealthRoute(app, full);
  registerAdminRoutes(app, full);
  registerApprovalRoutes(app, full);
  registerMetricsRoute(app, full);
  return app;
}

function fromFrameworkError(error: FastifyError, context: () => GatewayContext): GatewayError {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new GatewayError("payload_too_large", "request body is too large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new GatewayError("unsupported_media_type", "body must be JSON (Content-Type: application/json)");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new GatewayError("invalid_json", "body is empty; send a JSON object", "body");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new GatewayError("invalid_json", "body is not valid JSON", "body");
    default:
      break;
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return new GatewayError("invalid_json", "body is not valid JSON", "body");
  }
  const mapped = toGatewayError(error);
  if (
    mapped.code === "internal" &&
    typeof error.statusCode === "number" &&
    error.statusCode >= 400 &&
    error.statusCode < 500
  ) {
    return new GatewayError("invalid_request", "the request could not be read");
  }
  if (mapped.code === "internal" || mapped.code === "unavailable") {
    try {
      context().logger.error("http request failed", { error: error.name, reason: error.message });
    } catch {
      // the context is gone while stopping; nothing to log to
    }
  }
  return mapped;
}
