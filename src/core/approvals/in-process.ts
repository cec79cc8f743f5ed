import { randomUUID } from "node:crypto";
import type { JsonValue, Principal } from "../../protocols/types.js";
import { fromZodError, GatewayError } from "../../core/errors.js";
import { createApprovalBody } from "./input.js";
import type { RiskLevel } from "../../core/approvals/policy.js";
import { answerOf, type ApprovalService } from "../../core/approvals/service.js";

/** What an in-process agent asks: the same fields as the HTTP API, in TypeScript's spelling. */
export interface ApprovalAsk {
  tool: string;
  arguments?: JsonValue;
  /** Default "medium". */
  risk?: RiskLevel;
  /** How long the owner has (within the gateway's bound); default the gateway's default (5 minutes). */
  timeoutMs?: number;
  /** Shown as the agent's name on the card; default "agent". */
  agent?: string;
  context?: JsonValue;
}

export interface ApprovalResult {
  approved: boolean;
  reason: string;
  approver: string | null;
}

/** The principal in-process requests are recorded under (owners see and decide them like any other). */
export const IN_PROCESS_REQUESTER = "gateway:agent";
const WAIT_SLICE_MS = 30_000;

/**
 * `context.requestApproval(...)` of an agent function: the same path as `POST /api/approvals` (validation, policy, store,
 * cards, first decision wins, expiry), then waits for the decision. Fails closed: no approval store, a store that is
 * down or a turn that was stopped answer `approved: false` with the reason. Bad input throws a TypeError naming the field.
 */
export async function requestApprovalInProcess(
  approvals: ApprovalService | undefined,
  turn: { sessionId: string; principal: Principal; signal: AbortSignal },
  ask: ApprovalAsk,
): Promise<ApprovalResult> {
  if (!approvals) return { approved: false, reason: "this gateway keeps no approval requests: denied", approver: null };
  const parsed = createApprovalBody.safeParse({
    request_id: randomUUID(),
    tool_name: ask?.tool,
    arguments: ask?.arguments ?? {},
    risk_level: ask?.risk ?? "medium",
    agent_name: ask?.agent ?? "agent",
    session_id: turn.sessionId.slice(0, 256),
    context: ask?.context ?? {},
    ...(ask?.timeoutMs === undefined ? {} : { timeout_seconds: ask.timeoutMs / 1000 }),
  });
  if (!parsed.success) throw new TypeError(`requestApproval: ${fromZodError(parsed.error).message}`);
  const body = parsed.data;
  try {
    let record = await approvals.create(IN_PROCESS_REQUESTER, {
      id: body.request_id,
      tool: body.tool_name,
      arguments: body.arguments,
      risk: body.risk_level,
      agent: body.agent_name ?? "agent",
      session: body.session_id ?? "",
      context: body.context,
      ...(body.timeout_seconds === undefined ? {} : { timeoutMs: body.timeout_seconds * 1000 }),
    });
    while (record.status === "pending" && !turn.signal.aborted) {
      record = (await approvals.waitForDecision(record.id, WAIT_SLICE_MS, turn.signal)) ?? record;
    }
    if (record.status === "pending") {
      // The turn was stopped: the request is closed as denied, so its cards do not wait for nobody.
      const closed = await approvals.decide(record.id, "denied", "system", "the agent stopped waiting");
      record = closed.record ?? record;
    }
    const answer = answerOf(record);
    return "approved" in answer ? answer : { approved: false, reason: "no decision", approver: null };
  } catch (error) {
    if (error instanceof GatewayError && error.code === "invalid_request")
      throw new TypeError(`requestApproval: ${error.message}`);
    return { approved: false, reason: "the approval store is unavailable: denied", approver: null };
  }
}
