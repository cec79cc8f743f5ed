import type { FastifyInstance, FastifyRequest } from "fastify";
import type { OwnerActor } from "../core/admission.js";
import type { HttpDeps } from "./http-deps.js";
import {
  approvePairing,
  createInvite,
  denyPairing,
  listPaired,
  listPending,
  readAudit,
  revokePairing,
  showSession,
} from "../core/pairing-actions.js";

/** The admin API: every handler goes through the shared owner actions, which authorise and validate. */
export function registerAdminRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const actor = (request: FastifyRequest): OwnerActor => ({ kind: "principal", principal: deps.principalOf(request) });

  app.get("/api/pairing/pending", async (request) => listPending(deps.context(request), actor(request), request.query));
  app.post("/api/pairing/approve", async (request) =>
    approvePairing(deps.context(request), actor(request), request.body),
  );
  app.post("/api/pairing/deny", async (request) => denyPairing(deps.context(request), actor(request), request.body));
  app.get("/api/pairing/paired", async (request) => listPaired(deps.context(request), actor(request)));
  app.delete("/api/pairing/paired/:channelType/:channelId", async (request) =>
    revokePairing(deps.context(request), actor(request), request.params),
  );
  app.post("/api/pairing/invites", async (request, reply) => {
    const invite = await createInvite(deps.context(request), actor(request), request.body, {
      inviteTtlMs: deps.options.inviteTtlMs,
      now: deps.options.now,
    });
    return reply.code(201).send(invite);
  });
  app.get("/api/sessions/:id", async (request) => showSession(deps.context(request), actor(request), request.params));
  app.get("/api/audit", async (request) => readAudit(deps.context(request), actor(request), request.query));
}
