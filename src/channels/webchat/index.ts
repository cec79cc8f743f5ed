import type { SocketChannel } from "../../core/socket-channel.js";
import { channelPlugin, type ChannelRouterOptions } from "../router.js";
import { WebchatAdapter } from "./adapter.js";

export { WebchatAdapter, WEBCHAT_CAPABILITIES } from "./adapter.js";

/**
 * The webchat channel: the devices that connect to the gateway's WebSocket without a token, admitted through the same
 * router as every chat channel. `createGateway` runs it unless given `webchat: false` (or another socket channel).
 */
export function webchatChannel(router: ChannelRouterOptions = {}): SocketChannel {
  const adapter = new WebchatAdapter();
  const plugin = channelPlugin(adapter, router);
  return {
    channelType: plugin.channelType,
    start: (context) => plugin.start(context),
    stop: () => plugin.stop(),
    health: () => plugin.health?.() ?? { status: "ok" },
    connect: (arrival, link) => adapter.connect(arrival, link),
  };
}
