import type { GatewayContext } from "../core/context.js";
import type { ButtonAction } from "../pairing/buttons.js";
import { decisionLine } from "./action-card.js";
import type { ButtonPress } from "./channel.js";
import type { RouterMessages } from "./messages.js";
import { untrustedLine } from "./text/untrusted.js";

export interface ActionPress {
  channelType: string;
  /** The request's reference from the verified token (canonical). */
  ref: string;
  action: ButtonAction;
  /** The owner, as authorizeOwnerAction named them. */
  approver: string;
}

/**
 * An Approve/Deny press on an agent's action card, after handleButtonPress checked the presser, the chat and the token.
 * The store records the first decision only: a replayed or late press (another card, the console, another instance
 * was first, or it expired) is answered with what was decided and changes nothing.
 */
export async function decideActionByButton(
  ctx: GatewayContext,
  press: ButtonPress,
  input: ActionPress,
  messages: RouterMessages,
): Promise<void> {
  const approvals = ctx.approvals;
  if (!approvals) return press.answer(messages.buttonInvalid);
  const outcome = input.action === "approve" ? "approved" : "denied";
  try {
    const record = await approvals.getByRef(input.ref);
    if (!record) return press.answer(messages.buttonInvalid, { removeButtons: true });
    const result = await approvals.decide(
      record.id,
      outcome,
      input.approver,
      `${outcome} by ${input.approver} on ${input.channelType}`,
    );
    const now = result.record ?? record;
    if (!result.won) return press.answer(messages.actionHandled(decisionLine(now)), { removeButtons: true });
    const tool = untrustedLine(record.tool, 60);
    return press.answer(outcome === "approved" ? messages.actionApproved(tool) : messages.actionDenied(tool), {
      removeButtons: true,
    });
  } catch (error) {
    ctx.logger.warn("action button press failed closed: approval store error", {
      channelType: input.channelType,
      error: error instanceof Error ? error.name : typeof error,
    });
    return press.answer(messages.unavailable);
  }
}
