import type { z } from "zod";
import type { Principal } from "../../protocols/types.js";
import type { ApprovalRecord } from "../../stores/approvals.js";
import { authorizeOwnerAction, type OwnerActor } from "../../core/admission.js";
import type { GatewayContext } from "../../core/context.js";
import { fromZodError, GatewayError, notSupportedByStore } from "../../core/errors.js";
import { AGENT_ROLE, OWNER_ROLES } from "../../core/identity-lists.js";
import {
  approvalIdParams,
  approvalStatusQuery,
  createApprovalBody,
  decideApprovalBody,
} from "../../core/approvals/input.js";
import { answerOf, type ApprovalAnswer, type ApprovalService } from "../../core/approvals/service.js";

/**
 * The approval operations behind the HTTP API, the WebSocket methods and the CLI. Agents (role `agent`) and owners may
 * create requests and read their own; only owners (authorizeOwnerAction, the one check for every decision) may list
 * and decide. Input is validated before anything is read or changed.
 */

/** What owners see of a request: everything but the button reference. */
export type ApprovalView = Omit<ApprovalRecord, "ref">;

export function viewOf({ ref: _ref, ...view }: ApprovalRecord): ApprovalView {
  return view;
}

function parse<T extends z.ZodType>(schema: T, input: unknown, prefix = ""): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw fromZodError(result.error, prefix);
  return result.data;
}

function serviceOf(ctx: GatewayContext): ApprovalService {
  if (!ctx.approvals) throw notSupportedByStore("approval requests", "its store has no approval table");
  return ctx.approvals;
}

const isOwnerRole = (principal: Principal): boolean => OWNER_ROLES.has(principal.role);

/** Agents and owners may ask; anyone else is refused before any input is read. */
function requester(principal: Principal): string {
  if (principal.role === AGENT_ROLE || isOwnerRole(principal)) return principal.userId;
  throw new GatewayError("forbidden", "only an agent or owner token may request approvals");
}

async function owner(ctx: GatewayContext, actor: OwnerActor): Promise<string> {
  const decision = await authorizeOwnerAction(ctx, actor).catch(() => {
    throw new GatewayError(
      "unavailable",
      "the store is temporarily unavailable; nothing was changed, try again shortly",
    );
  });
  if (!decision.allowed)
    throw new GatewayError("forbidden", "only an owner or admin may list or decide approval requests");
  return decision.actorId;
}

export async function createApproval(
  ctx: GatewayContext,
  principal: Principal,
  input: unknown,
): Promise<{ created: ApprovalRecord; answer: ApprovalAnswer }> {
  const who = requester(principal);
  const body = parse(createApprovalBody, input);
  const record = await serviceOf(ctx).create(who, {
    id: body.request_id,
    tool: body.tool_name,
    arguments: body.arguments,
    risk: body.risk_level,
    agent: body.agent_name ?? "",
    session: body.session_id ?? "",
    context: body.context,
    ...(body.timeout_seconds === undefined ? {} : { timeoutMs: body.timeout_seconds * 1000 }),
  });
  return { created: record, answer: answerOf(record) };
}

/** A request's answer for its requester (or an owner); `wait` seconds long-polls for the decision. */
export async function readApproval(
  ctx: GatewayContext,
  principal: Principal,
  params: unknown,
  query: unknown,
  signal?: AbortSignal,
): Promise<ApprovalAnswer> {
  requester(principal);
  const { requestId } = parse(approvalIdParams, params);
  const { wait = 0 } = parse(approvalStatusQuery, query);
  const service = serviceOf(ctx);
  let record = await service.get(requestId);
  // Someone else's request reads exactly like a missing one: its existence is not theirs to learn.
  if (!record || (record.requester !== principal.userId && !isOwnerRole(principal))) {
    throw new GatewayError("not_found", "no approval request with this request_id");
  }
  if (record.status === "pending" && wait > 0)
    record = (await service.waitForDecision(requestId, wait * 1000, signal)) ?? record;
  return answerOf(record);
}

export async function listApprovals(ctx: GatewayContext, actor: OwnerActor): Promise<{ approvals: ApprovalView[] }> {
  await owner(ctx, actor);
  return { approvals: (await serviceOf(ctx).listPending()).map(viewOf) };
}

export async function decideApproval(
  ctx: GatewayContext,
  actor: OwnerActor,
  params: unknown,
  approved: boolean,
  input: unknown,
): Promise<{ decided: boolean; approval: ApprovalView }> {
  const approver = await owner(ctx, actor);
  const { requestId } = parse(approvalIdParams, params);
  const { reason } = parse(decideApprovalBody, input);
  const outcome = approved ? "approved" : "denied";
  const result = await serviceOf(ctx).decide(requestId, outcome, approver, reason ?? `${outcome} by ${approver}`);
  if (!result.record) throw new GatewayError("not_found", "no approval request with this request_id");
  return { decided: result.won, approval: viewOf(result.record) };
}
