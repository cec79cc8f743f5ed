import { authorizeOwnerAction, type OwnerActionDecision } from "../core/admission.js";
import { errorName } from "./redact.js";
import type { GatewayContext } from "../core/context.js";
import { withDeadline } from "../core/deadline.js";
import { approvePairing } from "../core/pairing-actions.js";
import { comparableCode, formatCode } from "../pairing/codes.js";
import { buttonCodeRef, verifyButtonToken } from "../pairing/buttons.js";
import type { ButtonPress, ChannelAdapter } from "./channel.js";
import type { RouterMessages } from "./messages.js";
import { decideActionByButton } from "./action-press.js";
import { WEBCHAT_CHANNEL_TYPE } from "../core/identity-lists.js";

export interface ButtonPressDeps {
  ctx: GatewayContext;
  adapter: ChannelAdapter;
  key: Buffer;
  messages: RouterMessages;
  now: () => number;
  deadlineMs: number;
}

type DenyCall = (channelType: string, code: string, options: { deniedBy: string }) => Promise<boolean> | boolean;

/**
 * One Approve/Deny press. Checks, in order: the presser is an owner of the channel, configured or store-kept (the gateway's one owner check), the press
 * came from the presser's own DM, the token is authentic for this channel and this presser, not expired, and names the
 * same action. Only then does the store decide, and the store is single use: a replay finds nothing and is refused.
 * Every path answers the presser exactly once.
 */
export async function handleButtonPress(deps: ButtonPressDeps, press: ButtonPress): Promise<void> {
  const { ctx, adapter, messages } = deps;
  const channelType = adapter.channelType;
  let owner: OwnerActionDecision;
  try {
    owner = await authorizeOwnerAction(ctx, { kind: "chat", channelType, userId: press.pressedBy }, deps.deadlineMs);
  } catch (error) {
    ctx.logger.warn("button press failed closed: owner check unavailable", { channelType, error: errorName(error) });
    return press.answer(messages.unavailable);
  }
  if (!owner.allowed) {
    ctx.logger.warn("button press refused: not an owner", { channelType });
    return press.answer(messages.buttonNotOwner);
  }
  if (!(await fromOwnDirectChat(adapter, press))) {
    ctx.logger.warn("button press refused: not from the owner's direct chat", { channelType });
    return press.answer(messages.buttonWrongChat);
  }
  const verdict = verifyButtonToken(deps.key, press.token, {
    channelType,
    pressedBy: press.pressedBy,
    now: deps.now(),
  });
  if (!verdict.ok) {
    ctx.logger.warn("button press refused: token " + verdict.reason, { channelType });
    return verdict.reason === "expired"
      ? press.answer(messages.buttonExpired, { removeButtons: true })
      : press.answer(messages.buttonInvalid);
  }
  if (press.action !== null && press.action !== verdict.action) {
    ctx.logger.warn("button press refused: action does not match its token", { channelType });
    return press.answer(messages.buttonInvalid);
  }
  if (verdict.subject === "action") {
    if (verdict.code === null) return press.answer(messages.buttonInvalid);
    return decideActionByButton(
      ctx,
      press,
      { channelType, ref: verdict.code, action: verdict.action, approver: owner.actorId },
      messages,
    );
  }
  const store = ctx.pairing;
  // A webchat device's card came on this channel (webchat has no owner inbox): the press decides the device's request.
  const requestChannel = verdict.subject === "device" ? WEBCHAT_CHANNEL_TYPE : channelType;
  let decided: boolean;
  let code = "";
  try {
    const pressed = await pressedCode(deps, requestChannel, channelType, verdict);
    if (pressed === null) return press.answer(messages.buttonHandled, { removeButtons: true });
    code = pressed;
    if (verdict.action === "approve") {
      // The shared approve path: the same owner check, and the requester named to a store that needs to be told.
      const actor = { kind: "chat", channelType, userId: press.pressedBy } as const;
      const input = { channelType: requestChannel, code };
      decided = (await approvePairing(ctx, actor, input, { deadlineMs: deps.deadlineMs })).approved;
    } else {
      if (typeof store.deny !== "function") return press.answer(messages.buttonNoDeny);
      const deny = store.deny.bind(store) as DenyCall;
      decided = await withDeadline(
        "pairing.deny",
        () => deny(requestChannel, code, { deniedBy: owner.actorId }),
        deps.deadlineMs,
      );
    }
  } catch (error) {
    ctx.logger.warn("button press failed closed: pairing store error", {
      channelType,
      error: error instanceof Error ? error.name : typeof error,
    });
    return press.answer(messages.unavailable);
  }
  if (!decided) return press.answer(messages.buttonHandled, { removeButtons: true });
  ctx.logger.info(`pairing ${verdict.action === "approve" ? "approved" : "denied"} by button`, {
    channelType,
    ...(requestChannel !== channelType ? { requestChannel } : {}),
    by: owner.actorId,
  });
  const text =
    verdict.action === "approve"
      ? messages.buttonApproved(code, owner.actorId)
      : messages.buttonDenied(code, owner.actorId);
  return press.answer(text, { removeButtons: true });
}

async function fromOwnDirectChat(adapter: ChannelAdapter, press: ButtonPress): Promise<boolean> {
  if (!press.isDirect) return false;
  try {
    return (await adapter.directChatIdFor(press.pressedBy)) === press.chatId;
  } catch {
    return false;
  }
}

type Verified = Extract<ReturnType<typeof verifyButtonToken>, { ok: true }>;

/**
 * The code a verified press decides, spelled as the store lists it (a store with only the protocol methods may not
 * normalise what it is given). A token for a code in a store's own format carries only a keyed digest (made for the
 * channel the token was signed for), matched among the live requests of the request's channel. Null: no such request
 * is pending any more.
 */
async function pressedCode(
  deps: ButtonPressDeps,
  channelType: string,
  tokenChannel: string,
  verdict: Verified,
): Promise<string | null> {
  const store = deps.ctx.pairing;
  // A built-in store (it has subscribe) mints gatehouse codes and reads any spelling of them.
  if (verdict.code !== null && typeof store.subscribe === "function") return formatCode(verdict.code);
  const pending = await withDeadline("pairing.listPending", () => store.listPending(channelType), deps.deadlineMs);
  const entry = pending.find(
    (p) =>
      p.kind === "request" &&
      (verdict.code !== null
        ? comparableCode(p.code) === verdict.code
        : buttonCodeRef(deps.key, tokenChannel, p.code) === verdict.codeRef),
  );
  return entry?.code ?? null;
}
