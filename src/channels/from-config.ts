import type { ChannelsConfig } from "../config/schema.js";
import type { ChannelPlugin } from "../gateway/context.js";
import { DiscordAdapter } from "./discord/adapter.js";
import { channelPlugin, type ChannelRouterOptions } from "./router.js";
import { SlackAdapter } from "./slack/adapter.js";
import { TelegramAdapter } from "./telegram/adapter.js";
import { tokenFromEnv } from "./channel.js";

type ChannelSection = {
  enabled: boolean;
  token?: string;
  tokenEnv?: string;
  ownerUserIds: string[];
  unknownUserPolicy?: ChannelRouterOptions["unknownUserPolicy"];
  [key: string]: unknown;
};

/**
 * The channel plugins named in gatehouse.yaml's `channels:` section, ready for `createGateway({ channels })`.
 * Tokens come from environment variables (tokenEnv, default TELEGRAM_BOT_TOKEN / DISCORD_BOT_TOKEN / SLACK_BOT_TOKEN);
 * a missing variable is an error naming it, and no token is ever logged.
 */
export function channelsFromConfig(channels: ChannelsConfig, env: NodeJS.ProcessEnv = process.env): ChannelPlugin[] {
  const plugins: ChannelPlugin[] = [];
  const telegram = channels.telegram as ChannelSection | undefined;
  if (telegram?.enabled) {
    const webhook = telegram.webhook as { url: string; secretEnv?: string; path?: string; host?: string; port?: number } | undefined;
    const adapter = new TelegramAdapter({
      token: telegram.token ?? tokenFromEnv(telegram.tokenEnv ?? "TELEGRAM_BOT_TOKEN", "telegram", env),
      ...(typeof telegram.apiRoot === "string" ? { apiRoot: telegram.apiRoot } : {}),
      ...(webhook
        ? {
            mode: "webhook" as const,
            webhook: {
              secretToken: tokenFromEnv(webhook.secretEnv ?? "TELEGRAM_WEBHOOK_SECRET", "telegram", env),
              publicUrl: webhook.url,
              ...(webhook.path ? { path: webhook.path } : {}),
              ...(typeof webhook.host === "string" ? { host: webhook.host } : {}),
              ...(typeof webhook.port === "number" ? { port: webhook.port } : {}),
            },
          }
        : {}),
    });
    plugins.push(channelPlugin(adapter, routerOptions(telegram)));
  }
  const discord = channels.discord as ChannelSection | undefined;
  if (discord?.enabled) {
    const publicKey = typeof discord.publicKey === "string" ? discord.publicKey : undefined;
    const adapter = new DiscordAdapter({
      token: discord.token ?? tokenFromEnv(discord.tokenEnv ?? "DISCORD_BOT_TOKEN", "discord", env),
      ...(publicKey ? { interactions: { publicKey, ...numberOrNot("port", discord.interactionsPort) } } : {}),
    });
    plugins.push(channelPlugin(adapter, routerOptions(discord)));
  }
  // Socket Mode keys (appToken, appTokenEnv) never get here: the config schema refuses them.
  const slack = channels.slack as (ChannelSection & { signingSecret?: string; signingSecretEnv?: string }) | undefined;
  if (slack?.enabled) {
    const adapter = new SlackAdapter({
      botToken: slack.token ?? tokenFromEnv(slack.tokenEnv ?? "SLACK_BOT_TOKEN", "slack", env),
      signingSecret: slack.signingSecret ?? tokenFromEnv(slack.signingSecretEnv ?? "SLACK_SIGNING_SECRET", "slack", env),
      ...numberOrNot("port", slack.port),
      ...(typeof slack.host === "string" ? { host: slack.host } : {}),
      ...(typeof slack.path === "string" ? { path: slack.path } : {}),
    });
    plugins.push(channelPlugin(adapter, routerOptions(slack)));
  }
  return plugins;
}

function routerOptions(section: ChannelSection): ChannelRouterOptions {
  return {
    ownerUserIds: section.ownerUserIds,
    ...(section.unknownUserPolicy ? { unknownUserPolicy: section.unknownUserPolicy } : {}),
  };
}

function numberOrNot(name: "port", value: unknown): { port?: number } {
  return typeof value === "number" && Number.isInteger(value) ? { [name]: value } : {};
}
