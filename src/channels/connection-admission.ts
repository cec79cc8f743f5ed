import { admit, readmission, type AdmissionResult } from "../core/admission.js";
import type { GatewayContext } from "../core/context.js";
import { isPairedForAdmission } from "../core/paired-batch.js";
import type { ConnectionHandlers } from "./channel.js";
import { errorName } from "./redact.js";

/** The owner cards of a new request, sent at most once per window (the router's `announce`). */
export type AnnounceRequest = (
  result: Extract<AdmissionResult, { decision: "pending" }>,
  requester: { id: string; name: string },
  firstMessage: string,
) => Promise<void>;

/**
 * Admission for senders who connect (webchat): the same `admit`, code and owner cards as a chat message, asked when
 * they connect and again before each request instead of per message.
 */
export function connectionHandlers(
  ctx: GatewayContext,
  channelType: string,
  deadlineMs: number,
  announce: AnnounceRequest,
): ConnectionHandlers {
  return {
    arrive: async (sender, options = {}) => {
      const result = await admit(
        ctx,
        { channelType, senderId: sender.id, userName: sender.name },
        { deadlineMs, ...options },
      );
      if (result.decision === "pending" && result.isNew) {
        // The device sees its code at once; the owners' cards follow (once per window across instances).
        void announce(result, { id: sender.id, name: sender.name ?? "" }, "").catch((error: unknown) =>
          ctx.logger.warn("could not send the approval cards", { channelType, error: errorName(error) }),
        );
      }
      return result;
    },
    readmitter: (senderId) => readmission(ctx, { channelType, senderId }, { deadlineMs }),
    isPaired: (senderId) => isPairedForAdmission(ctx.pairing, senderId, channelType, deadlineMs),
    decisionsArePushed: typeof ctx.pairing.subscribe === "function",
  };
}
