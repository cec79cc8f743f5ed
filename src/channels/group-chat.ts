import { admit, authorizeOwnerAction, type AdmissionResult } from "../core/admission.js";
import type { GatewayContext } from "../core/context.js";
import { withDeadline } from "../core/deadline.js";
import { approvePairing } from "../core/pairing-actions.js";
import type { ChannelAdapter, InboundMessage } from "./channel.js";
import type { RouterMessages } from "./messages.js";
import { parsePairCommand } from "./pair-command.js";
import { errorName } from "./redact.js";
import { untrustedLine } from "./text/index.js";

/**
 * Whether members of an approved group still need to be paired one by one ("members", the default), or the group's
 * approval admits everyone who addresses the bot there ("group").
 */
export type GroupPolicy = "members" | "group";

const GROUP_PREFIX = "group:";

/** The pairing id of a whole group chat (`group:<chatId>`), so a group is approved like any request, and listed as one. */
export function groupPairingId(chatId: string): string {
  return `${GROUP_PREFIX}${chatId}`;
}

/** The chat id of a group pairing id, or null for a person's id. */
export function groupChatOf(pairingId: string): string | null {
  return pairingId.startsWith(GROUP_PREFIX) ? pairingId.slice(GROUP_PREFIX.length) : null;
}

export interface GroupDeps {
  ctx: GatewayContext;
  adapter: ChannelAdapter;
  messages: RouterMessages;
  deadlineMs: number;
  policy: GroupPolicy;
  /** True when a hint for `key` (group, or group and member) may be sent: at most one per key a window, across instances. */
  hint(key: string): Promise<boolean>;
  /** Sends owners the Approve/Deny card for the group's request (at most once per window, the router decides). */
  sendCards(
    result: Extract<AdmissionResult, { decision: "pending" }>,
    requester: { id: string; name: string },
    text: string,
  ): Promise<void>;
}

/**
 * A message in a group chat. Unaddressed messages are ignored; a group that is not approved never reaches the agent
 * and never sees a code (its request goes to the owners as a card; the group gets one short line); in an approved
 * group, the group policy decides whether each member must also be paired (they are asked to message the bot
 * privately, where the usual pairing happens). Returns the admission to act on, or undefined when the message was handled.
 */
export async function admitGroupMessage(
  deps: GroupDeps,
  message: InboundMessage,
): Promise<AdmissionResult | undefined> {
  if (!message.addressed) return undefined;
  const { ctx, adapter, messages } = deps;
  const channelType = adapter.channelType;
  const groupId = groupPairingId(message.chatId);
  let isOwner: boolean;
  try {
    isOwner = (
      await authorizeOwnerAction(ctx, { kind: "chat", channelType, userId: message.sender.id }, deps.deadlineMs)
    ).allowed;
  } catch (error) {
    ctx.logger.warn("group message failed closed: owner check unavailable", { channelType, error: errorName(error) });
    return void (await adapter.send(message.chatId, messages.unavailable));
  }
  const pair = parsePairCommand(message.text);
  if (pair !== null) {
    if (isOwner && pair.toLowerCase() === "group") return void (await approveGroup(deps, message, groupId));
    // An invite code typed in a group would be read by everyone there: pairing happens in private chats only.
    return void (await hint(
      deps,
      `${groupId}:${message.sender.id}`,
      message.chatId,
      messages.groupAskPrivately(displayName(message)),
    ));
  }
  const group = await admit(
    ctx,
    { channelType, senderId: groupId, userName: message.chatName ?? "", text: message.text },
    { deadlineMs: deps.deadlineMs },
  );
  switch (group.decision) {
    case "admitted":
      break;
    case "pending":
      if (isOwner) return void (await hint(deps, `${groupId}:owner`, message.chatId, messages.groupOwnerHint));
      if (group.isNew) {
        await deps.hint(groupId);
        await adapter.send(message.chatId, messages.groupPending);
        await deps.sendCards(group, { id: groupId, name: message.chatName ?? "" }, message.text);
        return undefined;
      }
      return void (await hint(deps, groupId, message.chatId, messages.groupPending));
    case "denied":
      if (group.reason !== "policy-deny") await hint(deps, groupId, message.chatId, group.message);
      return undefined;
    case "unavailable":
      await adapter.send(message.chatId, group.message);
      return undefined;
  }
  if (isOwner) return { decision: "admitted", reason: "owner" };
  if (deps.policy === "group") return { decision: "admitted", reason: "paired" };
  // "members": the sender must be admitted in their own right; a check here never creates a request (no code in groups).
  const member = await admit(
    ctx,
    { channelType, senderId: message.sender.id },
    { deadlineMs: deps.deadlineMs, allowNewRequest: false },
  );
  if (member.decision === "admitted") return member;
  if (member.decision === "unavailable") return void (await adapter.send(message.chatId, member.message));
  if (member.decision === "denied" && member.reason === "policy-deny") return undefined;
  await hint(deps, `${groupId}:${message.sender.id}`, message.chatId, messages.groupAskPrivately(displayName(message)));
  return undefined;
}

/** `/pair group` from an owner: the group's request is created (or found) and approved, through the same store calls as a button. */
async function approveGroup(deps: GroupDeps, message: InboundMessage, groupId: string): Promise<void> {
  const { ctx, adapter, messages, deadlineMs } = deps;
  const channelType = adapter.channelType;
  const store = ctx.pairing;
  try {
    const owner = await authorizeOwnerAction(ctx, { kind: "chat", channelType, userId: message.sender.id }, deadlineMs);
    if (!owner.allowed) return;
    if (await withDeadline("pairing.isPaired", () => store.isPaired(groupId, channelType), deadlineMs)) {
      return adapter.send(message.chatId, messages.groupAlreadyApproved);
    }
    const code = await withDeadline(
      "pairing.generateCode",
      async () => store.generateCode(channelType, groupId),
      deadlineMs,
    );
    const actor = { kind: "chat" as const, channelType, userId: message.sender.id };
    const { approved: ok } = await approvePairing(ctx, actor, { channelType, code }, { deadlineMs });
    // The approval's audit event tells the group (groupApproved), on whichever instance hears it.
    if (!ok) await adapter.send(message.chatId, messages.buttonHandled);
    else ctx.logger.info("group approved by an owner's command", { channelType, by: owner.actorId });
  } catch (error) {
    ctx.logger.warn("group approval failed", { channelType, error: errorName(error) });
    await adapter.send(message.chatId, messages.unavailable);
  }
}

async function hint(deps: GroupDeps, key: string, chatId: string, text: string): Promise<void> {
  if (await deps.hint(key)) await deps.adapter.send(chatId, text);
}

function displayName(message: InboundMessage): string {
  return untrustedLine(message.sender.name, 64);
}
