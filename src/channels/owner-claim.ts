import type { GatewayContext } from "../core/context.js";
import { redeemOwnerClaim } from "../core/owners.js";
import { boundedCode, CODE_ALPHABET, comparableCode } from "../pairing/codes.js";
import type { RouterMessages } from "./messages.js";
import { cleanName, ownRequestCode } from "./pair-command.js";
import { errorName } from "./redact.js";

/** An owner-claim attempt in a chat message: the code, and whether it came bare (as printed) or after `/owner`. */
export interface OwnerClaimText {
  code: string;
  bare: boolean;
}

const BARE_CODE = new RegExp(`^[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}$`, "i");

/**
 * `/owner CODE` (also `/owner@botname CODE`; "" when the code is missing), or the code alone exactly as the gateway
 * prints it (`ABCD-EFGH`, any case); null when the text is neither.
 */
export function parseOwnerClaim(text: string): OwnerClaimText | null {
  const trimmed = text.trim();
  const match = /^\/owner(?:@\S+)?(?:\s+([\s\S]*))?$/i.exec(trimmed);
  if (match) return { code: (match[1] ?? "").trim(), bare: false };
  return BARE_CODE.test(trimmed) ? { code: trimmed, bare: true } : null;
}

/**
 * Redeems an owner-claim code sent in a direct chat: the reply to send, or null when a bare code is the sender's own
 * pairing-request code (they are handled as any other message then). A wrong code counts toward the sender's guess
 * limit; a store that is down fails closed and says so. The code is never logged.
 */
export async function claimOwnership(
  ctx: GatewayContext,
  channelType: string,
  sender: { id: string; name: string },
  claim: OwnerClaimText,
  messages: RouterMessages,
  deadlineMs: number,
): Promise<string | null> {
  if (claim.code === "") return messages.ownerClaimUsage;
  const code = boundedCode(claim.code);
  if (code === null) return messages.ownerClaimRefused;
  try {
    if (claim.bare && (await ownRequestCode(ctx, channelType, sender.id, deadlineMs)) === comparableCode(code))
      return null;
    const claimed = await redeemOwnerClaim(
      ctx.pairing,
      channelType,
      { id: sender.id, name: cleanName(sender.name) },
      code,
      deadlineMs,
    );
    if (!claimed) return messages.ownerClaimRefused;
    ctx.logger.info("a chat user claimed ownership of the channel", { channelType });
    return messages.ownerClaimed(channelType);
  } catch (error) {
    ctx.logger.warn("owner claim failed closed: pairing store error", { channelType, error: errorName(error) });
    return messages.unavailable;
  }
}
