import type { GatewayContext } from "../core/context.js";
import { withDeadline } from "../core/deadline.js";
import { boundedCode, comparableCode } from "../pairing/codes.js";
import type { RouterMessages } from "./messages.js";
import { errorName } from "./redact.js";

/** `/pair CODE` (also `/pair@botname CODE`): the argument, "" when missing, or null when the text is not the command. */
export function parsePairCommand(text: string): string | null {
  const match = /^\/pair(?:@\S+)?(?:\s+([\s\S]*))?$/i.exec(text.trim());
  if (!match) return null;
  return (match[1] ?? "").trim();
}

type RedeemCall = (
  channelType: string,
  code: string,
  userId: string,
  userName: string,
  options: { inviteOnly: true },
) => Promise<boolean> | boolean;

/**
 * Redeems an owner-issued invite for the sender. Only invites: the store is told `inviteOnly`, and (for stores that do not
 * know that option) the sender's own pending request code is refused here too, so nobody approves themselves.
 */
export async function redeemInvite(
  ctx: GatewayContext,
  channelType: string,
  sender: { id: string; name: string },
  argument: string,
  messages: RouterMessages,
  deadlineMs: number,
): Promise<string> {
  if (argument === "") return messages.pairUsage;
  const code = boundedCode(argument);
  if (code === null) return messages.pairBadCode;
  const store = ctx.pairing;
  try {
    const own = await ownRequestCode(ctx, channelType, sender.id, deadlineMs);
    if (own !== null && own === comparableCode(code)) return messages.pairRefused;
    const approve = store.approve.bind(store) as RedeemCall;
    const ok = await withDeadline(
      "pairing.approve",
      () => approve(channelType, code, sender.id, cleanName(sender.name), { inviteOnly: true }),
      deadlineMs,
    );
    return ok ? messages.pairAccepted : messages.pairRefused;
  } catch (error) {
    ctx.logger.warn("invite redemption failed closed: pairing store error", { channelType, error: errorName(error) });
    return messages.unavailable;
  }
}

export async function ownRequestCode(
  ctx: GatewayContext,
  channelType: string,
  senderId: string,
  deadlineMs: number,
): Promise<string | null> {
  const store = ctx.pairing;
  if (typeof store.pendingFor === "function") {
    const pendingFor = store.pendingFor.bind(store);
    const mine = await withDeadline("pairing.pendingFor", () => pendingFor(senderId, channelType), deadlineMs);
    return mine ? comparableCode(mine.code) : null;
  }
  const list = await withDeadline("pairing.listPending", () => store.listPending(channelType), deadlineMs);
  const mine = list.find((p) => p.kind === "request" && p.channelId === senderId);
  return mine ? comparableCode(mine.code) : null;
}

export function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, "")
    .trim()
    .slice(0, 256);
}
