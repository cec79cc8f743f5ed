import type { ChannelPlugin } from "../../core/context.js";
import { channelPlugin, type ChannelRouterOptions } from "../router.js";
import { TelegramAdapter, type TelegramAdapterOptions } from "./adapter.js";

export { TelegramAdapter, type TelegramAdapterOptions, type TelegramWebhookOptions } from "./adapter.js";

/** The Telegram channel as a gateway plugin: `createGateway({ channels: [telegramChannel()] })`. */
export function telegramChannel(
  options: TelegramAdapterOptions = {},
  router: ChannelRouterOptions = {},
): ChannelPlugin {
  return channelPlugin(new TelegramAdapter(options), router);
}
