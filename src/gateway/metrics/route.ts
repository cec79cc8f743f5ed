import type { FastifyInstance } from "fastify";
import { GatewayError } from "../../core/errors.js";
import { OWNER_ROLES } from "../../core/identity-lists.js";
import { sendError, type HttpDeps } from "../http-deps.js";

/**
 * GET /metrics: the gateway's Prometheus metrics, for an owner or admin credential (or the local owner socket, which
 * the auth admits as the owner). Authenticated with the admin API (401 without a credential); other roles get 403.
 */
export function registerMetricsRoute(app: FastifyInstance, deps: HttpDeps): void {
  const metrics = deps.metrics;
  if (!metrics) return;
  app.get("/metrics", async (request, reply) => {
    if (!OWNER_ROLES.has(deps.principalOf(request).role)) {
      return sendError(reply, new GatewayError("forbidden", "only an owner or admin may read the metrics"));
    }
    const text = await metrics.render();
    return reply.code(200).type(metrics.contentType).send(text);
  });
}
