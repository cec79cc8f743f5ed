export * from "./channel.js";
export { channelPlugin, type ChannelRouterOptions } from "./router.js";
export { DEFAULT_MESSAGES, type RouterMessages } from "./messages.js";
export { channelsFromConfig } from "./from-config.js";
export * from "./telegram/index.js";
export * from "./discord/index.js";
export * from "./slack/index.js";
export { CHANNELS, channelDescriptor, channelTypes } from "./registry.js";
export { defineChannel, type ChannelDescriptor, type ChannelSection } from "./descriptor.js";
