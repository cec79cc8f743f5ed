import { channelTypeProblem, idProblem } from "../pairing/validation.js";
import type { OwnerActor } from "./admission.js";
import type { GatewayContext } from "./context.js";
import { GatewayError } from "./errors.js";
import { canHaveStoreOwners, createOwnerClaim, listStoreOwners, revokeStoreOwner, type StoreOwner } from "./owners.js";
import { authorize, storeCall } from "./pairing-actions.js";

/**
 * The owner operations on store-kept owners (src/core/owners.ts), for the CLI and any other path: each authorises the
 * actor through the one owner check first, refuses bad input before the store is asked, and fails closed.
 */

function checkChannelType(channelType: unknown): string {
  const problem = channelTypeProblem(channelType);
  if (problem !== null) throw new GatewayError("invalid_request", `channelType ${problem}`);
  if (!canHaveStoreOwners(channelType as string)) {
    throw new GatewayError(
      "invalid_request",
      `channelType "${String(channelType)}" cannot have owners by claim (webchat and owner.* are excluded)`,
    );
  }
  return channelType as string;
}

/** A one-time owner-claim code for `channelType`: shown once, valid for the invite lifetime (10 minutes by default). */
export async function createOwnerClaimCode(
  ctx: GatewayContext,
  actor: OwnerActor,
  channelType: unknown,
  options: { now?: () => number; ttlMs?: number } = {},
): Promise<{ channelType: string; code: string; expiresAt: number }> {
  await authorize(ctx, actor);
  const checked = checkChannelType(channelType);
  const claim = await storeCall(ctx, "owners.createClaim", () => createOwnerClaim(ctx.pairing, checked, options));
  return { channelType: checked, ...claim };
}

export async function listOwners(ctx: GatewayContext, actor: OwnerActor): Promise<{ owners: StoreOwner[] }> {
  await authorize(ctx, actor);
  return { owners: await storeCall(ctx, "owners.list", () => listStoreOwners(ctx.pairing)) };
}

/** Removes a store-kept owner (their cards stop, their buttons are refused); owners named in the config are untouched. */
export async function revokeOwner(
  ctx: GatewayContext,
  actor: OwnerActor,
  channelType: unknown,
  userId: unknown,
): Promise<{ revoked: boolean }> {
  const actorId = await authorize(ctx, actor);
  const checked = checkChannelType(channelType);
  const problem = idProblem(userId);
  if (problem !== null) throw new GatewayError("invalid_request", `userId ${problem}`);
  return {
    revoked: await storeCall(ctx, "owners.revoke", () =>
      revokeStoreOwner(ctx.pairing, checked, userId as string, actorId),
    ),
  };
}
