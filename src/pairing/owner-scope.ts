/**
 * Owners kept in the store ride on the pairing machinery: an owner-claim code is an invite on the owner scope of a
 * channel type (`owner.telegram`), redeeming it pairs the claimant on that scope, and "is an owner" is "is paired on
 * the owner scope". So claims get everything invites have on every backend: keyed-hash storage, single use across
 * instances, expiry, per-redeemer guess limits and the audit log. Channel types that start with this prefix are
 * reserved for it.
 */
export const OWNER_SCOPE_PREFIX = "owner.";

/** The pairing channel type that holds the store-kept owners of `channelType`. */
export function ownerScope(channelType: string): string {
  return `${OWNER_SCOPE_PREFIX}${channelType}`;
}

/** Whether a pairing channel type is an owner scope (not a chat channel). */
export function isOwnerScope(channelType: string): boolean {
  return channelType.startsWith(OWNER_SCOPE_PREFIX);
}

/** The chat channel type an owner scope belongs to, or null for an ordinary channel type. */
export function channelOfOwnerScope(scope: string): string | null {
  return isOwnerScope(scope) && scope.length > OWNER_SCOPE_PREFIX.length
    ? scope.slice(OWNER_SCOPE_PREFIX.length)
    : null;
}

/** The audit event type of a successful approve: `owner-claimed` on an owner scope, else `approved`. */
export function approvedEventType(channelType: string): "approved" | "owner-claimed" {
  return isOwnerScope(channelType) ? "owner-claimed" : "approved";
}
