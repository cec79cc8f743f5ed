import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import type { Principal } from "../protocols/types.js";
import type { ChannelPlugin, GatewayContext } from "../core/context.js";
import { errorBody, type GatewayError } from "../core/errors.js";
import type { OriginPolicy } from "./origin-policy.js";

export const DEFAULT_BODY_LIMIT = 16 * 1024;

export interface HttpServerOptions {
  bodyLimit?: number;
  /** Invite lifetime reported as expiresAt by POST /api/pairing/invites. */
  inviteTtlMs?: number;
  /** The clock the stores use, so a reported expiresAt matches theirs. */
  now?: () => number;
}

/** What admin route handlers need: the context, the authenticated principal of a request, the origin policy. */
export interface HttpDeps {
  /** The gateway's context; given a request, one whose logger puts the request's id on every line. */
  context(request?: FastifyRequest): GatewayContext;
  /** The gateway's channels, for /healthz. */
  channels?(): readonly ChannelPlugin[];
  originPolicy(): OriginPolicy;
  principalOf(request: FastifyRequest): Principal;
  options: HttpServerOptions;
  /** fastify's logger (the gateway's pino); none: fastify logs nothing of its own. */
  log?: FastifyBaseLogger;
  /** What GET /metrics serves (admins and owners only); none: no /metrics route. */
  metrics?: MetricsEndpoint;
}

/** The Prometheus text of one gateway's metrics. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}

export function sendError(reply: FastifyReply, error: GatewayError): FastifyReply {
  return reply.code(error.status).send({ error: errorBody(error) });
}
