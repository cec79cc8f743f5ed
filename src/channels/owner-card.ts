import type { PolicyOptions } from "../gateway/context.js";
import { WEBCHAT_CHANNEL_TYPE } from "../gateway/identity-lists.js";
import { signButtonToken } from "../pairing/buttons.js";
import type { ApprovalRequest } from "./channel.js";

/**
 * The owners reachable on one channel: `<channelType>:<id>` entries of ownerUserIds, plus plain ids (no colon) except on
 * webchat, where only explicit entries count (matching the gateway's own owner check).
 */
export function ownersOn(policy: PolicyOptions, channelType: string): string[] {
  const prefix = `${channelType}:`;
  const owners = new Set<string>();
  for (const entry of policy.ownerUserIds) {
    if (entry.startsWith(prefix) && entry.length > prefix.length) owners.add(entry.slice(prefix.length));
    else if (!entry.includes(":") && channelType !== WEBCHAT_CHANNEL_TYPE) owners.add(entry);
  }
  return [...owners];
}

export interface CardInput {
  channelType: string;
  code: string;
  senderId: string;
  senderName: string;
  firstMessage?: string;
  expiresAt: number;
  now: number;
}

const MAX_QUOTE = 300;

/** The Approve/Deny card for one owner: its tokens are signed for that owner only. */
export function approvalCardFor(key: Buffer, ownerId: string, input: CardInput): ApprovalRequest {
  const claims = { channelType: input.channelType, code: input.code, recipient: ownerId, expiresAt: input.expiresAt };
  return {
    channelType: input.channelType,
    code: input.code,
    senderId: input.senderId,
    senderName: input.senderName,
    ...(input.firstMessage ? { firstMessage: input.firstMessage } : {}),
    expiresAt: input.expiresAt,
    approveToken: signButtonToken(key, { ...claims, action: "approve" }),
    denyToken: signButtonToken(key, { ...claims, action: "deny" }),
    text: cardText(input),
  };
}

function cardText(input: CardInput): string {
  const who = input.senderName ? `${input.senderName} (id ${input.senderId})` : `id ${input.senderId}`;
  const minutes = Math.max(1, Math.round((input.expiresAt - input.now) / 60_000));
  const lines = [`Access request on ${input.channelType}`, `From: ${who}`, `Code: ${input.code}`];
  if (input.firstMessage) {
    const quote = input.firstMessage.length > MAX_QUOTE ? `${input.firstMessage.slice(0, MAX_QUOTE)}…` : input.firstMessage;
    lines.push(`First message: "${quote}"`);
  }
  lines.push(`Expires in ${minutes} minute(s). Approve or deny below (or from the CLI or console).`);
  return lines.join("\n");
}
