import { describe, expect, it } from "vitest";
import { channelsFromConfig } from "../src/channels/from-config.js";
import { configSchema } from "../src/config/schema.js";

const TG = "123456789:AAH-config_test_token_abcdefghijklmn";

function channelsOf(raw: unknown) {
  return configSchema.parse({ channels: raw }).channels;
}

describe("channels from gatehouse.yaml", () => {
  it("builds the configured channels with tokens from the environment", () => {
    const plugins = channelsFromConfig(
      channelsOf({
        telegram: { tokenEnv: "MY_TG", ownerUserIds: ["111"] },
        slack: { ownerUserIds: ["UOWNER"] },
        discord: { enabled: false },
      }),
      { MY_TG: TG, SLACK_BOT_TOKEN: "xoxb-1-2-3", SLACK_SIGNING_SECRET: "0123456789abcdef0123456789abcdef" },
    );
    expect(plugins.map((p) => p.channelType)).toEqual(["telegram", "slack"]);
  });

  it("names the missing environment variable and never echoes a token", () => {
    expect(() => channelsFromConfig(channelsOf({ telegram: {} }), {})).toThrow(/TELEGRAM_BOT_TOKEN/);
    expect(() => channelsFromConfig(channelsOf({ telegram: { webhook: { url: "https://bot.example.com/tg" } } }), { TELEGRAM_BOT_TOKEN: TG })).toThrow(
      /TELEGRAM_WEBHOOK_SECRET/,
    );
    expect(() => channelsFromConfig(channelsOf({ telegram: {} }), { TELEGRAM_BOT_TOKEN: "changeme" })).toThrow(/placeholder/);
    try {
      channelsFromConfig(channelsOf({ telegram: {} }), { TELEGRAM_BOT_TOKEN: "12:short but wrong" });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain("short but wrong");
    }
  });

  it("builds webhook mode from the webhook section", () => {
    const [plugin] = channelsFromConfig(channelsOf({ telegram: { webhook: { url: "https://bot.example.com/tg", path: "/tg" } } }), {
      TELEGRAM_BOT_TOKEN: TG,
      TELEGRAM_WEBHOOK_SECRET: "a_long_random_webhook_secret_1234",
    });
    expect(plugin?.channelType).toBe("telegram");
  });
});
