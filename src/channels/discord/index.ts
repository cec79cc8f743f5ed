import type { ChannelPlugin } from "../../core/context.js";
import { channelPlugin, type ChannelRouterOptions } from "../router.js";
import { DiscordAdapter, type DiscordAdapterOptions } from "./adapter.js";

export { DiscordAdapter, type DiscordAdapterOptions } from "./adapter.js";
export { DiscordInteractionsEndpoint, type DiscordInteractionsOptions } from "./interactions.js";
export { discordCustomId, parseDiscordCustomId } from "./components.js";
export {
  discordPublicKey,
  verifyDiscordSignature,
  DISCORD_REPLAY_WINDOW_SECONDS,
  type DiscordSignedRequest,
  type DiscordVerification,
} from "./signature.js";

/** The Discord channel as a gateway plugin. */
export function discordChannel(options: DiscordAdapterOptions = {}, router: ChannelRouterOptions = {}): ChannelPlugin {
  return channelPlugin(new DiscordAdapter(options), router);
}
