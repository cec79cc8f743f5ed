import type { GatewayContext, PolicyOptions } from "../core/context.js";
import { canHaveStoreOwners, listStoreOwners } from "../core/owners.js";
import { errorName } from "./redact.js";
import { WEBCHAT_CHANNEL_TYPE } from "../core/identity-lists.js";
import { signButtonToken } from "../pairing/buttons.js";
import type { ApprovalRequest, ChannelAdapter } from "./channel.js";
import { PLAIN_TEXT } from "./text/plain.js";
import type { TextFormat } from "./text/format.js";
import { untrustedLine } from "./text/untrusted.js";

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

/**
 * Everyone who gets the cards of one channel: the configured owners (ownersOn) and the store-kept ones, who claimed the
 * channel with an owner-claim code. A store that cannot list its owners leaves the configured ones (and says so).
 */
export async function ownersReachable(
  ctx: GatewayContext,
  channelType: string,
  deadlineMs?: number,
): Promise<string[]> {
  const owners = new Set(ownersOn(ctx.policy, channelType));
  if (canHaveStoreOwners(channelType)) {
    try {
      for (const owner of await listStoreOwners(ctx.pairing, channelType, deadlineMs)) owners.add(owner.userId);
    } catch (error) {
      ctx.logger.warn("could not list the store-kept owners; cards go to the configured owners only", {
        channelType,
        error: errorName(error),
      });
    }
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
  /**
   * The channel the card goes out on, when it is not the request's own: a webchat device's request shown to an owner on
   * a chat channel (webchat has no owner inbox). Its buttons are signed for that channel, as a device's request.
   */
  via?: string;
}

/**
 * Emitted on the gateway's events with a CardInput (no `via`) when a webchat device's new request should go before the
 * owners: every chat channel's router sends its own owners the card, with buttons that decide the device's request.
 */
export const DEVICE_CARDS_EVENT = "webchat.owner-cards";

/** Longest display name and first-message quote shown on a card (UTF-16 units, clipped at a character boundary). */
const MAX_NAME = 64;
const MAX_QUOTE = 300;

/** The Approve/Deny card for one owner: its tokens are signed for that owner only. */
export function approvalCardFor(key: Buffer, ownerId: string, input: CardInput): ApprovalRequest {
  if (input.via !== undefined && input.channelType !== WEBCHAT_CHANNEL_TYPE)
    throw new TypeError("only a webchat device's card goes out on another channel");
  const claims = {
    channelType: input.via ?? input.channelType,
    code: input.code,
    recipient: ownerId,
    expiresAt: input.expiresAt,
    subject: input.via === undefined ? ("pairing" as const) : ("device" as const),
  };
  const request = {
    channelType: input.channelType,
    code: input.code,
    senderId: input.senderId,
    senderName: input.senderName,
    ...(input.firstMessage ? { firstMessage: input.firstMessage } : {}),
    createdAt: input.now,
    expiresAt: input.expiresAt,
    approveToken: signButtonToken(key, { ...claims, action: "approve" }),
    denyToken: signButtonToken(key, { ...claims, action: "deny" }),
  };
  return { ...request, text: approvalCardText(request, PLAIN_TEXT) };
}

/**
 * The card's text in one platform format. Everything the requester controls (display name, first message; the sender id
 * too, for safety) is made one line, clipped at a character boundary and quoted by the format, so it can add no line
 * (no fake `From:` or `Code:`), no link, mention or button.
 */
export function approvalCardText(request: Omit<ApprovalRequest, "text">, format: TextFormat): string {
  const id = format.quote(untrustedLine(request.senderId, MAX_NAME));
  const name = untrustedLine(request.senderName, MAX_NAME);
  const who = name ? `${format.quote(name)} (id ${id})` : `id ${id}`;
  const minutes = Math.max(1, Math.round((request.expiresAt - request.createdAt) / 60_000));
  const lines = [
    format.escape(`Access request on ${request.channelType}`),
    `From: ${who}`,
    `Code: ${format.escape(request.code)}`,
  ];
  const first = request.firstMessage ? untrustedLine(request.firstMessage, MAX_QUOTE) : "";
  if (first) lines.push(`First message: ${format.quote(first)}`);
  lines.push(format.escape(`Expires in ${minutes} minute(s). Approve or deny below (or from the CLI or console).`));
  return lines.join("\n");
}

/**
 * Sends every owner reachable on the adapter's channel its own card for one request (on this channel, or a webchat
 * device's with `via` set to this channel); a failed send is logged and skipped.
 */
export async function sendApprovalCards(
  ctx: GatewayContext,
  adapter: ChannelAdapter,
  key: Buffer,
  input: CardInput,
  deadlineMs: number,
): Promise<void> {
  for (const ownerId of await ownersReachable(ctx, adapter.channelType, deadlineMs)) {
    try {
      await adapter.sendApprovalCard(ownerId, approvalCardFor(key, ownerId, input));
    } catch (error) {
      ctx.logger.warn("could not send the approval card to an owner", {
        channelType: adapter.channelType,
        error: errorName(error),
      });
    }
  }
}
