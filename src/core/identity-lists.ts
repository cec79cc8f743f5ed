/**
 * Whether `senderId` on `channelType` is named by a policy list (ownerUserIds, allowedUsers).
 * Entries are plain ids (any channel type) or `<channelType>:<id>` (that channel type only).
 * Webchat device ids are chosen by the client, so for webchat only explicit `webchat:<id>` entries count:
 * a plain owner id from Telegram must never let a browser that claims the same id in.
 */
export function isListed(list: readonly string[], channelType: string, senderId: string): boolean {
  if (list.length === 0 || typeof senderId !== "string" || senderId === "") return false;
  const qualified = `${channelType}:${senderId}`;
  const plainAllowed = channelType !== WEBCHAT_CHANNEL_TYPE;
  return list.some((entry) => entry === qualified || (plainAllowed && entry === senderId));
}

export const WEBCHAT_CHANNEL_TYPE = "webchat";

/**
 * The least-privilege role of an agent's token: it may create approval requests and read its own, nothing else
 * (approvals/actions.ts admits it there; every other route and method refuses it).
 */
export const AGENT_ROLE = "agent";

/** Every role the gateway gives meaning to: a token with any other role would be refused everywhere. */
export const KNOWN_ROLES: readonly string[] = ["owner", "admin", "user", AGENT_ROLE];

/** Roles that may approve, deny and revoke pairings. */
export const OWNER_ROLES: ReadonlySet<string> = new Set(["owner", "admin"]);
