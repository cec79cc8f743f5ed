import type { ChannelPlugin } from "../core/context.js";
import type { ChannelSection } from "./descriptor.js";
import { CHANNELS } from "./registry.js";
import { channelPlugin, type ChannelRouterOptions } from "./router.js";

/**
 * The channel plugins named in gatehouse.yaml's `channels:` section (already validated by its registry schema), ready for
 * `createGateway({ channels })`. Each registered channel builds its own adapter; tokens come from environment variables
 * (tokenEnv, default e.g. TELEGRAM_BOT_TOKEN), a missing variable is an error naming it, and no token is ever logged.
 */
export async function channelsFromConfig(
  channels: Readonly<Record<string, ChannelSection | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChannelPlugin[]> {
  const plugins: ChannelPlugin[] = [];
  for (const descriptor of CHANNELS) {
    const section = channels[descriptor.type];
    if (!section?.enabled) continue;
    const adapter = await descriptor.create(section, env);
    plugins.push(channelPlugin(adapter, routerOptions(section)));
  }
  return plugins;
}

function routerOptions(section: ChannelSection): ChannelRouterOptions {
  return {
    ownerUserIds: section.ownerUserIds,
    ...(section.unknownUserPolicy ? { unknownUserPolicy: section.unknownUserPolicy } : {}),
    ...(section.replyMode ? { replyMode: section.replyMode } : {}),
    ...(section.groupPolicy ? { groupPolicy: section.groupPolicy } : {}),
  };
}
