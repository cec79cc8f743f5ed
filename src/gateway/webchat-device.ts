import type { Principal } from "../protocols/types.js";
import { admit, type AdmissionResult, type NewRequestBudget } from "../core/admission.js";
import type { GatewayContext } from "../core/context.js";
import { withDeadline } from "../core/deadline.js";
import { GatewayError } from "../core/errors.js";
import { WEBCHAT_CHANNEL_TYPE } from "../core/identity-lists.js";
import { isPairedForAdmission } from "../core/paired-batch.js";

/**
 * A webchat device behind a token-less socket: who it is (its device id, as a `user` of channel type webchat, never an
 * owner), its admission (the same `admit` every channel uses, with the network address's request budget) and the store
 * checks that let it in once approved and keep it in only while it stays paired.
 */
export class WebchatDevice {
  readonly principal: Principal;

  constructor(
    private readonly ctx: GatewayContext,
    readonly deviceId: string,
  ) {
    this.principal = { userId: deviceId, role: "user", channelType: WEBCHAT_CHANNEL_TYPE };
  }

  /** The connect: admitted, denied, unavailable, or pending with the store's code (asked for once). */
  admit(name: string | undefined, budget: NewRequestBudget | undefined): Promise<AdmissionResult> {
    return admit(
      this.ctx,
      { channelType: WEBCHAT_CHANNEL_TYPE, senderId: this.deviceId, userName: name },
      budget ? { newRequestBudget: budget } : {},
    );
  }

  /** While it waits: whether the store says it is paired now (isPaired only: never a new code). Throws when the store fails. */
  isPaired(): Promise<boolean> {
    return withDeadline("pairing.isPaired", () => isPairedForAdmission(this.ctx.pairing, this.deviceId, WEBCHAT_CHANNEL_TYPE));
  }

  /** Before each request: still admitted? false once revoked; throws `unavailable` when the store cannot say. */
  async stillAdmitted(): Promise<boolean> {
    const result = await admit(this.ctx, { channelType: WEBCHAT_CHANNEL_TYPE, senderId: this.deviceId });
    if (result.decision === "unavailable") throw new GatewayError("unavailable", result.message);
    return result.decision === "admitted";
  }
}
