/**
 * `gatehouse start` never hangs silently on a chat platform (issue 18 item 4): with a Telegram Bot API or a Slack Web
 * API that accepts connections and never answers, the gateway still starts within its channel grace period, prints its URL, the
 * first-start owner token and the channel's owner-claim code, answers /healthz (naming the channel still connecting),
 * logs each wait with its deadline, and stops cleanly while the channel is still connecting. Run as a child process.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalBotApi } from "./channels-telegram-api.js";
import { cliWorkspace, runGatehouse, startGatehouse } from "./cli-helpers.js";
import { silentServer } from "./support/dead-endpoints.js";
import { BOT_TOKEN as SLACK_TOKEN, SIGNING_SECRET } from "./support/slack-events.js";
import { until } from "./support/until.js";

const TOKEN = "7012345678:AAH-startConnectingToken_0123456789ab";

const ws = cliWorkspace();
afterAll(() => ws.cleanup());

/** The JSON log lines the gateway wrote to stderr whose message is `msg`. */
function logLines(logs: string, msg: string): Array<Record<string, unknown>> {
  return logs
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.message === msg);
}

/** A channel section pointing at a platform on `port`, the environment it needs, and the call it connects with. */
const SILENT_PLATFORMS = [
  {
    name: "telegram",
    section: (port: number) => `telegram:\n    apiRoot: http://127.0.0.1:${port}\n`,
    env: { TELEGRAM_BOT_TOKEN: TOKEN },
    call: "getMe",
  },
  {
    name: "slack",
    section: (port: number) => `slack:\n    apiUrl: http://127.0.0.1:${port}/api/\n    port: 0\n`,
    env: { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET },
    call: "auth.test",
  },
];

describe.each(SILENT_PLATFORMS)("gatehouse start with $name not answering", (platform) => {
  it("starts anyway, shows the token, the claim code and /healthz, and logs every wait with its deadline", async () => {
    // A store of its own: this is a first start, so the owner token is printed too.
    const fresh = cliWorkspace();
    const silent = await silentServer();
    const host = `127.0.0.1:${silent.port}`;
    const config = join(fresh.dataDir, "gatehouse.yaml");
    writeFileSync(config, `channels:\n  ${platform.section(silent.port)}`);
    const secrets = Object.values(platform.env);
    const gateway = await startGatehouse([...fresh.args, "--port", "0", "--config", config], { env: platform.env });
    try {
      expect(gateway.token).toMatch(/^gh_/);
      expect(gateway.output()).toMatch(new RegExp(`^\\s+${platform.name}: [A-Z0-9]{4}-[A-Z0-9]{4}`, "m"));
      expect(gateway.output()).toContain("gatehouse is running at");
      expect(logLines(gateway.logs(), "connecting to the platform")[0]).toMatchObject({
        channelType: platform.name,
        host,
        call: platform.call,
        deadlineMs: 10_000,
      });
      // The grace period passed with the channel still connecting: said so, then the gateway started.
      const [connecting] = logLines(
        gateway.logs(),
        "channel still connecting; the gateway starts without it and keeps trying",
      );
      expect(connecting).toMatchObject({ channelType: platform.name, waitedMs: 5000 });
      expect(logLines(gateway.logs(), "gateway started")).toHaveLength(1);

      const health = await fetch(`${gateway.url}/healthz`);
      expect(health.status).toBe(503);
      const body = (await health.json()) as { channels: Record<string, string>; error: { message: string } };
      expect(body.channels).toEqual({ [platform.name]: "degraded" });
      expect(body.error.message).toMatch(
        new RegExp(`channel ${platform.name} is degraded: still connecting \\(for \\d+ s\\)`),
      );

      // The call's own deadline (10 s) passes: a line with the host, the deadline and the next wait; /healthz says it.
      await until(
        () => /the platform did not answer; still connecting/.exec(gateway.logs()),
        () => `the "still connecting" line in the logs:\n${gateway.logs()}`,
        15_000,
      );
      const [wait] = logLines(gateway.logs(), "the platform did not answer; still connecting");
      expect(wait).toMatchObject({
        channelType: platform.name,
        host,
        call: platform.call,
        attempt: 1,
        deadlineMs: 10_000,
        retryInMs: 1000,
      });
      const later = (await (await fetch(`${gateway.url}/healthz`)).json()) as { error: { message: string } };
      expect(later.error.message).toContain(
        `channel ${platform.name} is degraded: ${platform.call} on ${host}: no answer within 10 s; retrying`,
      );
      for (const secret of secrets) expect(gateway.output()).not.toContain(secret);
    } finally {
      // Stopping while the channel is still connecting ends the process cleanly.
      expect(await gateway.stop()).toBe(0);
      await silent.close();
      fresh.cleanup();
    }
  }, 60_000);
});

describe("gatehouse start with a token the platform refuses", () => {
  it("refuses to start on a token Telegram refuses (401), as doctor does, without waiting for the grace period", async () => {
    const api = new LocalBotApi(TOKEN);
    const config = join(ws.dataDir, "refused.yaml");
    writeFileSync(config, `channels:\n  telegram:\n    apiRoot: ${await api.listen()}\n`);
    api.revokeToken();
    try {
      const env = { TELEGRAM_BOT_TOKEN: TOKEN };
      const doctor = await runGatehouse(["doctor", ...ws.args, "--config", config], { env });
      expect(doctor.stdout).toMatch(/^FAIL\s+telegram\s+telegram rejected the bot token \(401 Unauthorized\)$/m);
      expect(doctor.code).toBe(1);
      const started = Date.now();
      const start = await runGatehouse(["start", ...ws.args, "--port", "0", "--config", config], { env });
      expect(start.code, start.stdout).not.toBe(0);
      expect(start.stdout).not.toContain("running at");
      expect(start.stderr).toMatch(/401/);
      expect(`${start.stdout}${start.stderr}`).not.toContain(TOKEN);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await api.close();
    }
  }, 60_000);
});
