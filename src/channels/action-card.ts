import type { ApprovalRecord } from "../stores/approvals.js";
import { formatCode } from "../pairing/codes.js";
import { signButtonToken } from "../pairing/buttons.js";
import type { ActionCard } from "./channel.js";
import type { TextFormat } from "./text/format.js";
import { untrustedLine } from "./text/untrusted.js";

/** Longest tool/agent/session name and arguments shown on a card (UTF-16 units, clipped at a character boundary). */
const MAX_NAME = 80;
const MAX_ARGUMENTS = 600;

/** The Approve/Deny card of an agent's action for one owner: its tokens are signed for that owner only. */
export function actionCardFor(
  key: Buffer,
  ownerId: string,
  channelType: string,
  record: ApprovalRecord,
  now: number,
): ActionCard {
  const claims = {
    channelType,
    code: record.ref,
    recipient: ownerId,
    expiresAt: record.expiresAt,
    subject: "action" as const,
  };
  return {
    channelType,
    ref: formatCode(record.ref),
    tool: record.tool,
    arguments: JSON.stringify(record.arguments) ?? "null",
    risk: record.risk,
    agent: record.agent,
    session: record.session,
    createdAt: now,
    expiresAt: record.expiresAt,
    approveToken: signButtonToken(key, { ...claims, action: "approve" }),
    denyToken: signButtonToken(key, { ...claims, action: "deny" }),
  };
}

/**
 * The card's text in one platform format. Everything the agent sent (tool, arguments, agent, session) is made one line,
 * clipped at a character boundary and quoted by the format, so it can add no line, link, mention or button. With
 * `closing`, the card says how it ended instead of how long it has left.
 */
export function actionCardText(card: ActionCard, format: TextFormat, closing?: string): string {
  const quoted = (text: string, max = MAX_NAME): string => format.quote(untrustedLine(text, max) || "-");
  const lines = [
    format.escape(`Approval needed: an agent wants to run a tool (${card.risk.toUpperCase()} risk)`),
    `Tool: ${quoted(card.tool)}`,
    `Arguments: ${quoted(card.arguments, MAX_ARGUMENTS)}`,
    `Agent: ${quoted(card.agent)}  Session: ${quoted(card.session)}`,
    format.escape(`Ref: ${card.ref}`),
  ];
  if (closing !== undefined) {
    lines.push(format.escape(closing));
  } else {
    const minutes = Math.max(1, Math.round((card.expiresAt - card.createdAt) / 60_000));
    lines.push(format.escape(`Expires in ${minutes} minute(s). Approve or deny below (or from the console or CLI).`));
  }
  return lines.join("\n");
}

/** How a decided request reads on its cards, e.g. "Approved by telegram:42." */
export function decisionLine(record: Pick<ApprovalRecord, "status" | "approver">): string {
  switch (record.status) {
    case "approved":
      return `Approved by ${record.approver ?? "an owner"}.`;
    case "denied":
      return `Denied by ${record.approver ?? "an owner"}.`;
    case "expired":
      return "Expired: nobody decided in time (denied).";
    default:
      return "Waiting for a decision.";
  }
}
