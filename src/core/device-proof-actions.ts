import { isKeyDeviceId, type DeviceProofMode } from "../pairing/device-proof.js";
import { DEVICE_PROOF_SETTING, type SettingsStore } from "../stores/settings.js";
import type { OwnerActor } from "./admission.js";
import type { GatewayContext } from "./context.js";
import { withDeadline } from "./deadline.js";
import { GatewayError, notSupportedByStore } from "./errors.js";
import { WEBCHAT_CHANNEL_TYPE } from "./identity-lists.js";
import { denyPairing, listPaired, listPending, revokePairing } from "./pairing-actions.js";

/** Whether a webchat sender is a legacy name-only device (its id is not derived from a key). */
export function isLegacyDevice(channelType: string, channelId: string): boolean {
  return channelType === WEBCHAT_CHANNEL_TYPE && channelId !== "" && !isKeyDeviceId(channelId);
}

/**
 * The owner's one step to require device keys from everyone: the store's webchat.deviceProof becomes "required" (so
 * every instance refuses name-only connects from now on), then every paired name-only device is revoked (its open
 * sockets close) and every pending request of one is denied. Those devices must pair again, with a key.
 */
export async function requireDeviceProof(
  ctx: GatewayContext,
  actor: OwnerActor,
  settings: SettingsStore | undefined,
): Promise<{ revoked: number; denied: number }> {
  // Listing first also checks that the actor is an owner before anything changes.
  const { paired } = await listPaired(ctx, actor);
  await setMode(ctx, settings, "required");
  let revoked = 0;
  for (const entry of paired) {
    if (!isLegacyDevice(entry.channelType, entry.channelId)) continue;
    if ((await revokePairing(ctx, actor, { channelType: entry.channelType, channelId: entry.channelId })).revoked)
      revoked++;
  }
  let denied = 0;
  const { pending } = await listPending(ctx, actor, { channelType: WEBCHAT_CHANNEL_TYPE });
  for (const entry of pending) {
    if (entry.kind !== "request" || !isLegacyDevice(entry.channelType, entry.channelId)) continue;
    if ((await denyPairing(ctx, actor, { channelType: entry.channelType, code: entry.code })).denied) denied++;
  }
  return { revoked, denied };
}

/** Lets name-only devices connect again (unless the configuration says `required`, which the store cannot loosen). */
export async function allowLegacyDevices(
  ctx: GatewayContext,
  actor: OwnerActor,
  settings: SettingsStore | undefined,
): Promise<void> {
  await listPaired(ctx, actor);
  await setMode(ctx, settings, "optional");
}

/** The mode the store holds (null when none is), for `gatehouse pairing` listings. */
export async function storedDeviceProof(settings: SettingsStore | undefined): Promise<DeviceProofMode | null> {
  const value = settings ? await withDeadline("settings.get", () => settings.get(DEVICE_PROOF_SETTING)) : null;
  return value === "required" || value === "optional" ? value : null;
}

async function setMode(ctx: GatewayContext, settings: SettingsStore | undefined, mode: DeviceProofMode): Promise<void> {
  if (!settings) throw notSupportedByStore("webchat.deviceProof in the store", "no settings store");
  try {
    await withDeadline("settings.set", () => settings.set(DEVICE_PROOF_SETTING, mode));
  } catch (error) {
    ctx.logger.warn("store call failed", {
      operation: "settings.set",
      error: error instanceof Error ? error.name : "unknown",
    });
    throw new GatewayError(
      "unavailable",
      "the store is temporarily unavailable; nothing was changed, try again shortly",
    );
  }
}
