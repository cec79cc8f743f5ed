import type { FastifyInstance } from "fastify";
import type { ChannelPlugin } from "../core/context.js";
import { GatewayError } from "../core/errors.js";
import { sendError } from "./http-server.js";

const DEFAULT_WEBHOOK_BODY_LIMIT = 1_000_000;

/**
 * Serves the channels' webhook routes in a scope of their own: every body is kept raw (a platform signs the exact bytes),
 * whatever its content type, and none of the /api authentication applies (each channel checks its platform's signature).
 * Two channels claiming one method and path is a start-up error.
 */
export async function registerChannelRoutes(app: FastifyInstance, channels: readonly ChannelPlugin[]): Promise<void> {
  const routes = channels.flatMap((channel) => (channel.httpRoutes ?? []).map((route) => ({ channel, route })));
  if (routes.length === 0) return;
  const taken = new Set<string>();
  for (const { channel, route } of routes) {
    const key = `${route.method} ${route.path}`;
    if (!route.path.startsWith("/") || route.path.startsWith("/api/")) {
      throw new TypeError(
        `channel ${channel.channelType}: webhook path ${JSON.stringify(route.path)} must start with / and not be under /api/`,
      );
    }
    if (taken.has(key))
      throw new TypeError(`channel ${channel.channelType}: ${key} is already served by another channel`);
    taken.add(key);
  }
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
    for (const { route } of routes) {
      scope.route({
        method: route.method,
        url: route.path,
        bodyLimit: route.bodyLimit ?? DEFAULT_WEBHOOK_BODY_LIMIT,
        handler: async (request, reply) => {
          const query = new URLSearchParams(request.url.split("?")[1] ?? "");
          const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          try {
            const answer = await route.handle({ method: request.method, query, headers: request.headers, rawBody });
            reply.code(answer.status);
            if (answer.contentType) reply.type(answer.contentType);
            return reply.send(answer.body ?? "");
          } catch {
            return sendError(reply, new GatewayError("internal", "the channel could not handle this request"));
          }
        },
      });
    }
  });
}
