import type { FastifyInstance, FastifyRequest } from "fastify";
import type { HttpDeps } from "../http-deps.js";
import { createApproval, decideApproval, listApprovals, readApproval } from "./actions.js";

/** Aborted when the client goes away, so a long poll stops waiting for nobody. */
function clientGone(request: FastifyRequest): AbortSignal {
  const aborter = new AbortController();
  request.raw.once("close", () => aborter.abort());
  return aborter.signal;
}

/**
 * The approval API, shaped for PraisonAI's WebhookApproval: `POST /api/approvals` answers `{"status":"pending"}` (202)
 * or an immediate policy decision (200); `GET /api/approvals/:requestId` answers `{"status":"pending"}` until decided,
 * then `{"approved", "reason", "approver"}`; `?wait=<seconds>` (up to 60) holds the answer until a decision instead.
 */
export function registerApprovalRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.post("/api/approvals", async (request, reply) => {
    const { answer } = await createApproval(deps.context(request), deps.principalOf(request), request.body);
    return reply.code("status" in answer ? 202 : 200).send(answer);
  });
  app.get("/api/approvals", async (request) =>
    listApprovals(deps.context(request), { kind: "principal", principal: deps.principalOf(request) }),
  );
  app.get("/api/approvals/:requestId", async (request) =>
    readApproval(deps.context(request), deps.principalOf(request), request.params, request.query, clientGone(request)),
  );
  for (const [action, approved] of [
    ["approve", true],
    ["deny", false],
  ] as const) {
    app.post(`/api/approvals/:requestId/${action}`, async (request) =>
      decideApproval(
        deps.context(request),
        { kind: "principal", principal: deps.principalOf(request) },
        request.params,
        approved,
        request.body,
      ),
    );
  }
}
