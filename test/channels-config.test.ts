import { describe, expect, it } from "vitest";
import { channelsFromConfig } from "../src/channels/from-config.js";
import { CHANNELS, channelDescriptor, channelTypes } from "../src/channels/registry.js";
import { configSchema } from "../src/config/schema.js";
import { validateConfig } from "../src/config/load.js";

const TG = "123456789:AAH-config_test_token_abcdefghijklmn";

function channelsOf(raw: unknown) {
  return configSchema.parse({ channels: raw }).channels;
}

describe("channels from gatehouse.yaml", () => {
  it("builds the configured channels with tokens from the environment", async () => {
    const plugins = await channelsFromConfig(
      channelsOf({
        telegram: { tokenEnv: "MY_TG", ownerUserIds: ["111"] },
        slack: { ownerUserIds: ["UOWNER"] },
        discord: { enabled: false },
      }),
      { MY_TG: TG, SLACK_BOT_TOKEN: "xoxb-1-2-3", SLACK_SIGNING_SECRET: "0123456789abcdef0123456789abcdef" },
    );
    expect(plugins.map((p) => p.channelType)).toEqual(["telegram", "slack"]);
  });

  it("names the missing environment variable and never echoes a token", async () => {
    await expect(channelsFromConfig(channelsOf({ telegram: {} }), {})).rejects.toThrow(/TELEGRAM_BOT_TOKEN/);
    await expect(
      channelsFromConfig(channelsOf({ telegram: { webhook: { url: "https://bot.example.com/tg" } } }), {
        TELEGRAM_BOT_TOKEN: TG,
      }),
    ).rejects.toThrow(/TELEGRAM_WEBHOOK_SECRET/);
    await expect(channelsFromConfig(channelsOf({ telegram: {} }), { TELEGRAM_BOT_TOKEN: "changeme" })).rejects.toThrow(
      /placeholder/,
    );
    try {
      await channelsFromConfig(channelsOf({ telegram: {} }), { TELEGRAM_BOT_TOKEN: "12:short but wrong" });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain("short but wrong");
    }
  });

  it("builds webhook mode from the webhook section", async () => {
    const [plugin] = await channelsFromConfig(
      channelsOf({ telegram: { webhook: { url: "https://bot.example.com/tg", path: "/tg" } } }),
      {
        TELEGRAM_BOT_TOKEN: TG,
        TELEGRAM_WEBHOOK_SECRET: "a_long_random_webhook_secret_1234",
      },
    );
    expect(plugin?.channelType).toBe("telegram");
  });

  it("takes the channel keys, their options and their adapters from the registry", async () => {
    expect(channelTypes()).toEqual(CHANNELS.map((channel) => channel.type));
    expect(Object.keys(configSchema.shape.channels.unwrap().shape).sort()).toEqual(channelTypes().sort());
    expect(() => validateConfig({ channels: { icq: { ownerUserIds: ["1"] } } })).toThrow(/icq/);
    expect(() => validateConfig({ channels: { slack: { port: 70000 } } })).toThrow(/channels\.slack\.port/);
    for (const type of ["telegram", "discord", "slack"])
      expect(channelDescriptor(type)!.schema.safeParse({}).success).toBe(true);
    expect(() => validateConfig({ channels: { whatsapp: { ownerUserIds: ["1"] } } })).toThrow(
      /channels\.whatsapp\.phoneNumberId/,
    );
    const [plugin] = await channelsFromConfig(channelsOf({ discord: { ownerUserIds: ["1"] } }), {
      DISCORD_BOT_TOKEN: "discord-token-value",
    });
    expect(plugin?.channelType).toBe("discord");
  });

  it("builds WhatsApp from its section, with the secrets from the environment", async () => {
    const section = {
      phoneNumberId: "106540352242922",
      ownerUserIds: ["15550001111"],
      template: { name: "access_request", language: "en_US" },
    };
    const env = {
      WHATSAPP_ACCESS_TOKEN: "EAAG-config-test-access-token-0123",
      WHATSAPP_APP_SECRET: "config-test-app-secret-0123456789",
      WHATSAPP_VERIFY_TOKEN: "config-test-verify-token-0123",
    };
    const [plugin] = await channelsFromConfig(channelsOf({ whatsapp: section }), env);
    expect(plugin?.channelType).toBe("whatsapp");
    expect(plugin?.httpRoutes?.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /whatsapp/webhook",
      "POST /whatsapp/webhook",
    ]);
    await expect(
      channelsFromConfig(channelsOf({ whatsapp: section }), { ...env, WHATSAPP_APP_SECRET: undefined }),
    ).rejects.toThrow(/WHATSAPP_APP_SECRET/);
    expect(() => validateConfig({ channels: { whatsapp: { ...section, webhookPath: "/api/whatsapp" } } })).toThrow(
      /webhookPath/,
    );
  });
});
