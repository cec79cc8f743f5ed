import { z } from "zod";

/** PraisonAI's risk levels (praisonaiagents' ApprovalRequest.risk_level), lowest first. */
export const RISK_LEVELS = ["low", "medium", "high", "critical"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/**
 * One config rule: requests whose tool name is listed (exactly, or by a trailing `*` prefix such as `read_*`) and whose
 * risk level is listed are decided at once. A missing list matches everything; a rule must name tools or risks.
 */
export const approvalRule = z
  .strictObject({
    decision: z.enum(["approve", "deny"]),
    tools: z.array(z.string().min(1).max(200)).min(1).optional(),
    risk: z.array(z.enum(RISK_LEVELS)).min(1).optional(),
  })
  .refine((rule) => rule.tools !== undefined || rule.risk !== undefined, {
    message: "a rule must list tools, risk or both",
  });

export type ApprovalRule = z.infer<typeof approvalRule>;

export interface PolicyVerdict {
  approved: boolean;
  reason: string;
}

function toolMatches(pattern: string, tool: string): boolean {
  return pattern.endsWith("*") ? tool.startsWith(pattern.slice(0, -1)) : pattern === tool;
}

function matches(rule: ApprovalRule, tool: string, risk: string): boolean {
  const toolOk = rule.tools === undefined || rule.tools.some((pattern) => toolMatches(pattern, tool));
  const riskOk = rule.risk === undefined || (rule.risk as readonly string[]).includes(risk);
  return toolOk && riskOk;
}

/** What the rules decide for a request, or null when an owner must. A matching deny always wins over an approve. */
export function policyVerdict(rules: readonly ApprovalRule[], tool: string, risk: string): PolicyVerdict | null {
  const index = (decision: ApprovalRule["decision"]): number =>
    rules.findIndex((r) => r.decision === decision && matches(r, tool, risk));
  const deny = index("deny");
  if (deny >= 0) return { approved: false, reason: `denied by policy rule ${deny + 1}` };
  const approve = index("approve");
  if (approve >= 0) return { approved: true, reason: `approved by policy rule ${approve + 1}` };
  return null;
}

/** The `approvals:` section of gatehouse.yaml. */
export const approvalsConfigSchema = z
  .strictObject({
    /** How long the owner has when a request names no timeout. */
    defaultTimeoutSeconds: z.number().positive().max(86_400).default(300),
    /** The longest timeout a request may ask for (`timeout_seconds`). */
    maxTimeoutSeconds: z.number().positive().max(86_400).default(3_600),
    rules: z.array(approvalRule).default([]),
  })
  .refine((section) => section.defaultTimeoutSeconds <= section.maxTimeoutSeconds, {
    message: "defaultTimeoutSeconds must be at most maxTimeoutSeconds",
    path: ["defaultTimeoutSeconds"],
  });

export type ApprovalsConfig = z.infer<typeof approvalsConfigSchema>;
