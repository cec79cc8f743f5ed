import type { PairedChannel } from "../protocols/types.js";
import { formatCode, normalizeCode } from "../pairing/codes.js";
import { channelOfOwnerScope, isOwnerScope, ownerScope } from "../pairing/owner-scope.js";
import { isValidChannelType, isValidId } from "../pairing/validation.js";
import { DEFAULT_PAIRING_RULES } from "../stores/types.js";
import type { GatewayPairingStore } from "./context.js";
import { STORE_DEADLINE_MS, withDeadline } from "./deadline.js";
import { WEBCHAT_CHANNEL_TYPE } from "./identity-lists.js";
import { isPairedForAdmission } from "./paired-batch.js";

/**
 * Owners kept in the store: whoever redeemed an owner-claim code in a direct chat with the bot (see
 * src/pairing/owner-scope.ts for how they ride on the pairing machinery). They add to the configured ownerUserIds.
 * Every call here asks the store and throws when it fails or is late: callers fail closed.
 */

/** One store-kept owner. */
export interface StoreOwner {
  channelType: string;
  userId: string;
  label: string;
  claimedAt: number;
}

/**
 * Whether owner claims make sense on `channelType`: a chat channel type that is not an owner scope itself, and not
 * webchat (its device ids are chosen by the browser, so nobody may become an owner through one).
 */
export function canHaveStoreOwners(channelType: string): boolean {
  return (
    channelType !== WEBCHAT_CHANNEL_TYPE && !isOwnerScope(channelType) && isValidChannelType(ownerScope(channelType))
  );
}

/** Whether the store keeps `userId` as an owner of `channelType` (asked in the admission batch when the store has one). */
export async function isStoreOwner(
  store: GatewayPairingStore,
  channelType: string,
  userId: string,
  deadlineMs = STORE_DEADLINE_MS,
): Promise<boolean> {
  if (!canHaveStoreOwners(channelType) || !isValidId(userId)) return false;
  return isPairedForAdmission(store, userId, ownerScope(channelType), deadlineMs, "owners.isOwner");
}

/**
 * The store-kept owners, of every channel type or of one. For one (each owner card asks), the store lists only the
 * pairings of its owner scope, through an index; what comes back is filtered all the same, for a store that lists all.
 */
export async function listStoreOwners(
  store: GatewayPairingStore,
  channelType?: string,
  deadlineMs = STORE_DEADLINE_MS,
): Promise<StoreOwner[]> {
  const scope = channelType === undefined ? undefined : ownerScope(channelType);
  const paired = await withDeadline(
    "pairing.listPaired",
    async () => (scope === undefined ? store.listPaired() : store.listPaired(scope)),
    deadlineMs,
  );
  return paired.flatMap((entry: PairedChannel) => {
    const channel = channelOfOwnerScope(entry.channelType);
    if (channel === null || (channelType !== undefined && channel !== channelType)) return [];
    return [{ channelType: channel, userId: entry.channelId, label: entry.label, claimedAt: entry.pairedAt }];
  });
}

/** A fresh owner-claim code for `channelType` (shown once, kept only as a keyed hash) and when it expires. */
export async function createOwnerClaim(
  store: GatewayPairingStore,
  channelType: string,
  options: { now?: () => number; ttlMs?: number; deadlineMs?: number } = {},
): Promise<{ code: string; expiresAt: number }> {
  const now = (options.now ?? Date.now)();
  const code = await withDeadline(
    "pairing.generateCode",
    async () => store.generateCode(ownerScope(channelType)),
    options.deadlineMs,
  );
  const canonical = normalizeCode(code);
  return {
    code: canonical === null ? code : formatCode(canonical),
    expiresAt: now + (options.ttlMs ?? DEFAULT_PAIRING_RULES.inviteTtlMs),
  };
}

type RedeemCall = (
  channelType: string,
  code: string,
  userId: string,
  userName: string,
  options: { inviteOnly: true; approvedBy: string },
) => Promise<boolean> | boolean;

/**
 * Redeems an owner-claim code for a chat sender: true when they are now an owner of `channelType`. Single use (the
 * store's approve is atomic across instances); a wrong code counts toward the sender's guess limit on the owner scope.
 */
export async function redeemOwnerClaim(
  store: GatewayPairingStore,
  channelType: string,
  claimant: { id: string; name: string },
  code: string,
  deadlineMs = STORE_DEADLINE_MS,
): Promise<boolean> {
  if (!canHaveStoreOwners(channelType)) return false;
  const approve = store.approve.bind(store) as RedeemCall;
  const options = { inviteOnly: true, approvedBy: `${channelType}:${claimant.id}` } as const;
  return withDeadline(
    "pairing.approve",
    async () => approve(ownerScope(channelType), code, claimant.id, claimant.name, options),
    deadlineMs,
  );
}

type RevokeCall = (
  channelId: string,
  channelType: string,
  options: { revokedBy: string },
) => Promise<boolean> | boolean;

/** Removes a store-kept owner; false when `userId` was none. Owners named in the config stay owners. */
export async function revokeStoreOwner(
  store: GatewayPairingStore,
  channelType: string,
  userId: string,
  revokedBy: string,
  deadlineMs = STORE_DEADLINE_MS,
): Promise<boolean> {
  if (!canHaveStoreOwners(channelType)) return false;
  const revoke = store.revoke.bind(store) as RevokeCall;
  return withDeadline("pairing.revoke", async () => revoke(userId, ownerScope(channelType), { revokedBy }), deadlineMs);
}
