import { z } from "zod";
import { RISK_LEVELS } from "./policy.js";

/**
 * The body PraisonAI's WebhookApproval POSTs (request_id, tool_name, arguments, risk_level, agent_name, session_id,
 * context; agent_name and session_id may be null), plus our optional `timeout_seconds`. Other keys are ignored, so a
 * newer client that sends more still works.
 */
export const createApprovalBody = z.object({
  request_id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/, "must be 1-128 letters, digits, '.', '_', ':' or '-'"),
  tool_name: z.string().min(1).max(200),
  arguments: z.json().default({}),
  risk_level: z.enum(RISK_LEVELS).default("medium"),
  agent_name: z.string().max(200).nullish(),
  session_id: z.string().max(256).nullish(),
  context: z.json().default({}),
  timeout_seconds: z.number().positive().optional(),
});

export type CreateApprovalBody = z.infer<typeof createApprovalBody>;

export const approvalIdParams = z.strictObject({ requestId: createApprovalBody.shape.request_id });

/** `?wait=<seconds>`: long-poll up to this long for a decision (0: answer at once). */
export const approvalStatusQuery = z.strictObject({ wait: z.coerce.number().min(0).max(60).optional() });

/** An owner's decision from the API, the WebSocket or the CLI. */
export const decideApprovalBody = z.strictObject({ reason: z.string().max(500).optional() });
