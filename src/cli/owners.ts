import { channelTypes } from "../channels/registry.js";
import { ownersOn } from "../channels/owner-card.js";
import type { GatehouseConfig } from "../config/schema.js";
import type { GatewayPairingStore } from "../core/context.js";
import { createOwnerClaim, listStoreOwners } from "../core/owners.js";
import { formatTime } from "./output.js";

/** The chat channel types enabled in the config (the ones owner claims are printed for). */
export function configuredChatChannels(config: GatehouseConfig): string[] {
  return channelTypes().filter((type) => config.channels[type as keyof GatehouseConfig["channels"]]?.enabled === true);
}

/** The owners gatehouse.yaml names for one channel: `policy.ownerUserIds` and the channel's own `ownerUserIds`. */
export function configuredOwners(config: GatehouseConfig, channelType: string): string[] {
  const section = config.channels[channelType as keyof GatehouseConfig["channels"]];
  const ownerUserIds = [
    ...config.policy.ownerUserIds,
    ...(section?.ownerUserIds ?? []).map((id) => `${channelType}:${id}`),
  ];
  return ownersOn({ ...config.policy, ownerUserIds }, channelType);
}

/**
 * One owner-claim code for each configured chat channel that has no owner yet (none in the config, none in the store),
 * for `gatehouse start` to print; [] when every channel has one.
 */
export async function claimsForUnownedChannels(
  config: GatehouseConfig,
  store: GatewayPairingStore,
): Promise<OwnerClaim[]> {
  const unowned: string[] = [];
  for (const channelType of configuredChatChannels(config)) {
    if (configuredOwners(config, channelType).length > 0) continue;
    if ((await listStoreOwners(store, channelType)).length === 0) unowned.push(channelType);
  }
  return Promise.all(
    unowned.map(async (channelType) => ({ channelType, ...(await createOwnerClaim(store, channelType)) })),
  );
}

export interface OwnerClaim {
  channelType: string;
  code: string;
  expiresAt: number;
}

/** How to use a claim code, for the CLI's output. The code is shown here and nowhere else (never logged). */
export function claimLines(claim: OwnerClaim): string[] {
  return [
    `  ${claim.channelType}: ${claim.code}  (send "/owner ${claim.code}" or just the code to the bot in a direct chat before ${formatTime(claim.expiresAt)})`,
  ];
}
