/**
 * `gatehouse doctor` checks Discord, Slack and WhatsApp the way `start` needs them (issue 18 item 4): the settings
 * `start` would refuse, the token's shape, and the platform's answer within a deadline, against the local emulators
 * (Discord REST, Slack Web API, WhatsApp Cloud API). Run through the CLI; no secret ever appears in what it prints.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, runGatehouse, type CliWorkspace } from "./cli-helpers.js";
import { closedPort, silentServer } from "./support/dead-endpoints.js";
import { DiscordEmulator } from "./support/discord-emulator.js";
import { BOT_TOKEN as SLACK_TOKEN, SIGNING_SECRET } from "./support/slack-events.js";
import { LocalSlackApi } from "./support/slack-web-api.js";
import { LocalWhatsAppCloud } from "./whatsapp-cloud-api.js";

const DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.local_discord_doctor_token_abcdefghij";
const OTHER_DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.another_discord_token_abcdefghijkl";
const PHONE_ID = "106540352242922";
const ACCESS_TOKEN = "EAAG-local-whatsapp-doctor-token-0123456789";
const APP_SECRET = "local-app-secret-0123456789abcdef";
const VERIFY_TOKEN = "local-verify-token-0123456789";

/** One platform: how its section points at `root`, the environment with its secrets, and what doctor says. */
interface Platform {
  name: string;
  section(root: string): string;
  env: Record<string, string>;
  /** A root whose host answers; the emulator is started in beforeAll. */
  root(): string;
  ok: RegExp;
  /** Environment with a well-formed token the platform refuses, and the line doctor prints. */
  refusedEnv: Record<string, string>;
  refused: RegExp;
  /** Environment with a token of the wrong shape, and the line doctor prints. */
  misshapenEnv: Record<string, string>;
  misshapen: RegExp;
  /** A variable `start` needs; without it doctor fails naming it. */
  required: string;
}

const discord = new DiscordEmulator(DISCORD_TOKEN);
const slack = new LocalSlackApi(SLACK_TOKEN);
const whatsapp = new LocalWhatsAppCloud(PHONE_ID, ACCESS_TOKEN, APP_SECRET);
const roots: Record<string, string> = {};

const PLATFORMS: Platform[] = [
  {
    name: "discord",
    section: (root) => `discord:\n    apiRoot: ${root}\n`,
    env: { DISCORD_BOT_TOKEN: DISCORD_TOKEN },
    root: () => roots.discord!,
    ok: /^OK\s+discord\s+GET \/users\/@me on 127\.0\.0\.1:\d+ answers as gate-bot \(id 4242\)$/m,
    refusedEnv: { DISCORD_BOT_TOKEN: OTHER_DISCORD_TOKEN },
    refused: /^FAIL\s+discord\s+discord rejected the bot token \(401 Unauthorized\)$/m,
    misshapenEnv: { DISCORD_BOT_TOKEN: `Bot ${DISCORD_TOKEN}` },
    misshapen: /^FAIL\s+discord\s+the bot token starts with "Bot "/m,
    required: "DISCORD_BOT_TOKEN",
  },
  {
    name: "slack",
    section: (root) => `slack:\n    apiUrl: ${root}\n`,
    env: { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET },
    root: () => roots.slack!,
    ok: /^OK\s+slack\s+auth\.test on 127\.0\.0\.1:\d+ answers as gate in Test; signing secret set \(HTTP mode\)$/m,
    refusedEnv: { SLACK_BOT_TOKEN: "xoxb-local-test-token-999999999999" },
    refused: /^FAIL\s+slack\s+slack rejected the bot token \(auth\.test: invalid_auth\)$/m,
    misshapenEnv: { SLACK_BOT_TOKEN: "xapp-1-A0000000000-0000000000000-abcdef" },
    misshapen: /^FAIL\s+slack\s+the bot token starts with xapp-, not xoxb-/m,
    required: "SLACK_SIGNING_SECRET",
  },
  {
    name: "whatsapp",
    section: (root) => `whatsapp:\n    phoneNumberId: "${PHONE_ID}"\n    apiBaseUrl: ${root}\n`,
    env: { WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN, WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN },
    root: () => roots.whatsapp!,
    ok: /^OK\s+whatsapp\s+GET \/v21\.0\/106540352242922 on 127\.0\.0\.1:\d+ answers \(\+1 555-078-3881\); app secret and verify token set$/m,
    refusedEnv: { WHATSAPP_ACCESS_TOKEN: "EAAG-revoked-whatsapp-token-0123456789" },
    refused: /^FAIL\s+whatsapp\s+whatsapp rejected the access token \(401, OAuthException code 190\)$/m,
    misshapenEnv: { WHATSAPP_ACCESS_TOKEN: "EAAG local whatsapp token 0123456789" },
    misshapen: /^FAIL\s+whatsapp\s+the access token contains spaces/m,
    required: "WHATSAPP_VERIFY_TOKEN",
  },
];

const SECRETS = [
  DISCORD_TOKEN,
  OTHER_DISCORD_TOKEN,
  SLACK_TOKEN,
  SIGNING_SECRET,
  ACCESS_TOKEN,
  APP_SECRET,
  VERIFY_TOKEN,
];

let ws: CliWorkspace;

beforeAll(async () => {
  ws = cliWorkspace();
  roots.discord = await discord.listen();
  roots.slack = await slack.listen();
  roots.whatsapp = await whatsapp.listen();
});

afterAll(async () => {
  await Promise.all([discord.close(), slack.close(), whatsapp.close()]);
  ws.cleanup();
});

/** Runs doctor with one channel section pointing at `root`; checks that no secret (nor the env's) is printed. */
async function doctor(platform: Platform, root: string, env: Record<string, string>) {
  const config = join(ws.dataDir, `${platform.name}.yaml`);
  writeFileSync(config, `channels:\n  ${platform.section(root)}`);
  const result = await runGatehouse(["doctor", ...ws.args, "--config", config], { env });
  const printed = `${result.stdout}${result.stderr}`;
  for (const secret of [...SECRETS, ...Object.values(env)]) expect(printed).not.toContain(secret);
  return result;
}

describe.each(PLATFORMS)("gatehouse doctor on $name", (platform) => {
  it("is ok when the platform accepts the token, and exits 0", async () => {
    const result = await doctor(platform, platform.root(), platform.env);
    expect(result.stdout).toMatch(platform.ok);
    expect(result.code, result.stdout).toBe(0);
  });

  it("fails naming the refusal when the platform rejects the token", async () => {
    const result = await doctor(platform, platform.root(), { ...platform.env, ...platform.refusedEnv });
    expect(result.stdout).toMatch(platform.refused);
    expect(result.code).not.toBe(0);
  });

  it("fails on a token of the wrong shape", async () => {
    const result = await doctor(platform, platform.root(), { ...platform.env, ...platform.misshapenEnv });
    expect(result.stdout).toMatch(platform.misshapen);
    expect(result.code).not.toBe(0);
  });

  it("fails naming a variable start needs and does not find", async () => {
    const env = { ...platform.env };
    delete env[platform.required];
    const result = await doctor(platform, platform.root(), env);
    expect(result.stdout).toMatch(
      new RegExp(`^FAIL\\s+${platform.name}\\s+the ${platform.name} channel needs ${platform.required} set`, "m"),
    );
    expect(result.code).not.toBe(0);
  });

  it("names the host and the real cause when the platform cannot be reached", async () => {
    const port = await closedPort();
    const result = await doctor(platform, `http://127.0.0.1:${port}/api`, platform.env);
    expect(result.stdout).toMatch(
      new RegExp(`^FAIL\\s+${platform.name}\\s+cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`, "m"),
    );
    expect(result.code).not.toBe(0);
  });

  it("gives up on a platform that accepts the connection and never answers, naming the deadline", async () => {
    const silent = await silentServer();
    try {
      const result = await doctor(platform, `http://127.0.0.1:${silent.port}/api`, platform.env);
      expect(result.stdout).toMatch(
        new RegExp(
          `^FAIL\\s+${platform.name}\\s+cannot reach 127\\.0\\.0\\.1:${silent.port}: no answer within 5 s$`,
          "m",
        ),
      );
      expect(result.code).not.toBe(0);
    } finally {
      await silent.close();
    }
  }, 30_000);
});

describe("gatehouse doctor on whatsapp's phone number id", () => {
  it("fails when the access token cannot see the configured phone number id (Graph code 100)", async () => {
    const config = join(ws.dataDir, "whatsapp-other-id.yaml");
    writeFileSync(config, `channels:\n  whatsapp:\n    phoneNumberId: "999"\n    apiBaseUrl: ${roots.whatsapp}\n`);
    const result = await runGatehouse(["doctor", ...ws.args, "--config", config], { env: PLATFORMS[2]!.env });
    expect(result.stdout).toMatch(
      /^FAIL\s+whatsapp\s+the phone number id 999 is unknown to this access token \(400, code 100\)$/m,
    );
    expect(result.code).not.toBe(0);
  });
});
