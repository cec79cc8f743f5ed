import { z } from "zod";
import type { ChannelDescriptor, ChannelSection } from "./descriptor.js";
import { discordDescriptor } from "./discord/descriptor.js";
import { slackDescriptor } from "./slack/descriptor.js";
import { telegramDescriptor } from "./telegram/descriptor.js";
import { whatsappDescriptor } from "./whatsapp/descriptor.js";

/** Every built-in channel. Adding a channel is one descriptor file and one line here. */
export const CHANNELS: readonly ChannelDescriptor[] = [
  telegramDescriptor,
  discordDescriptor,
  slackDescriptor,
  whatsappDescriptor,
];

/** The built-in channel types, in registry order. */
export function channelTypes(): string[] {
  return CHANNELS.map((channel) => channel.type);
}

/** The descriptor for a channel type, or undefined. */
export function channelDescriptor(type: string): ChannelDescriptor | undefined {
  return CHANNELS.find((channel) => channel.type === type);
}

/** The `channels:` section of gatehouse.yaml: one optional key per registered channel, nothing else. */
export const channelsSchema = z.strictObject(
  Object.fromEntries(CHANNELS.map((channel) => [channel.type, channel.schema.optional()])) as Record<
    string,
    z.ZodOptional<z.ZodType<ChannelSection>>
  >,
);
