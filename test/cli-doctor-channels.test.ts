/**
 * `gatehouse doctor` checks each configured chat channel the way `start` needs it (issue 18 item 4): the Telegram token
 * is well formed and `getMe` answers on the configured Bot API within a deadline. Run through the CLI against the local
 * Bot API emulator; the token never appears in what doctor prints.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalBotApi } from "./channels-telegram-api.js";
import { cliWorkspace, runGatehouse, type CliWorkspace } from "./cli-helpers.js";
import { closedPort, silentServer } from "./support/dead-endpoints.js";

const TOKEN = "7012345678:AAH-doctorProbeToken_0123456789abcdef";

let ws: CliWorkspace;
let api: LocalBotApi;

beforeEach(() => {
  ws = cliWorkspace();
  api = new LocalBotApi(TOKEN);
});

afterEach(async () => {
  await api.close();
  ws.cleanup();
});

/** Runs doctor with a gatehouse.yaml whose telegram section points at `apiRoot`, the token in TELEGRAM_BOT_TOKEN. */
async function doctor(apiRoot: string, token = TOKEN) {
  const config = join(ws.dataDir, "gatehouse.yaml");
  writeFileSync(config, `channels:\n  telegram:\n    apiRoot: ${apiRoot}\n`);
  const result = await runGatehouse(["doctor", ...ws.args, "--config", config], {
    env: { TELEGRAM_BOT_TOKEN: token },
  });
  expect(`${result.stdout}${result.stderr}`).not.toContain(token);
  expect(`${result.stdout}${result.stderr}`).not.toContain(token.split(":")[1]);
  return result;
}

describe("gatehouse doctor on chat channels", () => {
  it("says telegram is ok when getMe answers, and exits 0", async () => {
    const result = await doctor(await api.listen());
    expect(result.stdout).toMatch(/^OK\s+telegram\s+getMe on 127\.0\.0\.1:\d+ answers as @gate_test_bot$/m);
    expect(api.calls.map((call) => call.method)).toEqual(["getMe"]);
    expect(result.code).toBe(0);
  });

  it("fails naming the 401 when Telegram rejects the token", async () => {
    const root = await api.listen();
    api.revokeToken();
    const result = await doctor(root);
    expect(result.stdout).toMatch(/^FAIL\s+telegram\s+telegram rejected the bot token \(401 Unauthorized\)$/m);
    expect(result.code).not.toBe(0);
  });

  it("fails with the real cause when the Bot API cannot be reached", async () => {
    const port = await closedPort();
    const result = await doctor(`http://127.0.0.1:${port}`);
    expect(result.stdout).toMatch(
      new RegExp(`^FAIL\\s+telegram\\s+cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`, "m"),
    );
    expect(result.code).not.toBe(0);
  });

  it("gives up on a Bot API that accepts the connection but never answers, naming the deadline", async () => {
    const silent = await silentServer();
    const port = silent.port;
    try {
      const result = await doctor(`http://127.0.0.1:${port}`);
      expect(result.stdout).toMatch(
        new RegExp(`^FAIL\\s+telegram\\s+cannot reach 127\\.0\\.0\\.1:${port}: no answer within 5 s$`, "m"),
      );
      expect(result.code).not.toBe(0);
    } finally {
      await silent.close();
    }
  }, 30_000);

  it("fails on a token that is not shaped like a bot token, without calling Telegram", async () => {
    const root = await api.listen();
    const result = await doctor(root, "not-a-telegram-token-at-all");
    // The adapter refuses it as `start` would, before any probe.
    expect(result.stdout).toMatch(/^FAIL\s+telegram\s+the Telegram bot token does not look like <digits>:<letters>/m);
    expect(api.calls).toEqual([]);
    expect(result.code).not.toBe(0);
  });
});
