import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { SlackAdapter } from "../src/channels/slack/index.js";
import type { GatewayLogger } from "../src/core/context.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { BOT_TOKEN, messageEvent, postSigned, SIGNING_SECRET } from "./support/slack-events.js";
import { LocalSlackApi } from "./support/slack-web-api.js";
import { until } from "./support/until.js";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function captureLogs(): { logs: string[]; logger: GatewayLogger } {
  const logs: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { logs, logger: { info: log("info"), warn: log("warn"), error: log("error") } };
}

async function healthOf(
  gateway: Gateway,
): Promise<{ status: number; body: { channels?: Record<string, string>; error?: { code: string; message: string } } }> {
  const res = await fetch(`${gateway.url}/healthz`);
  return { status: res.status, body: (await res.json()) as never };
}

describe("channel health in /healthz (issue 12 item 11)", () => {
  it("slack: a bot token revoked while running shows the channel degraded, naming it and the cause", async () => {
    const api = new LocalSlackApi(BOT_TOKEN);
    const apiUrl = await api.listen();
    const { logs, logger } = captureLogs();
    const adapter = new SlackAdapter({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, port: 0, apiUrl });
    const channel = channelPlugin(adapter);
    const gateway = createGateway({
      store: "memory:",
      secret: randomBytes(32),
      logger,
      policy: { ownerUserIds: ["slack:UOWNER"] },
      http: { port: 0 },
      channels: [channel],
    });
    await gateway.start();
    cleanup.push(
      () => api.close(),
      () => gateway.stop(),
    );
    expect(await healthOf(gateway)).toMatchObject({ status: 200, body: { channels: { slack: "ok" } } });
    const port = adapter.address()!.port;
    api.revokeToken();
    expect(
      await postSigned(`http://127.0.0.1:${port}/slack/events`, messageEvent("UOWNER", "hello"), "application/json"),
    ).toBe(200);
    await until(() => logs.some((l) => l.startsWith("error channel degraded")), "the degraded log");
    const degraded = await healthOf(gateway);
    expect(degraded.status).toBe(503);
    expect(degraded.body.channels).toEqual({ slack: "degraded" });
    expect(degraded.body.error).toEqual({
      code: "degraded",
      ghCode: "GH_ERR_DEGRADED",
      message: "channel slack is degraded: Slack refuses the bot token (invalid_auth)",
    });
    expect(logs.join("\n")).not.toContain(BOT_TOKEN);
  });
});
