/**
 * The day-one guide without editing YAML: `gatehouse start` with a Telegram bot and no owner prints an owner-claim
 * code; the person who sends it to the bot (grammY against the local Bot API) becomes an owner and gets the cards.
 * `gatehouse owner claim|list|revoke` (child processes on the same SQLite file while the gateway runs) make more codes,
 * show and remove the owners kept in the store.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalBotApi } from "./channels-telegram-api.js";
import { cliWorkspace, runGatehouse, startGatehouse, type CliWorkspace } from "./cli-helpers.js";
import { until } from "./support/until.js";

const TOKEN = "323456789:AAH-local_test_token_abcdefghijklmnopq";
const CLAIM_LINE = /^ {2}telegram: ([A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}) /m;
const PAIR_CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;
const CLAIMED = /^You are now an owner of this bot's telegram channel\./;
const REFUSED = "That owner-claim code is not valid, has expired or was already used.";
const WAIT = 30_000; // ms: generous under load

let api: LocalBotApi;
let ws: CliWorkspace;
let config: string;

beforeAll(async () => {
  api = new LocalBotApi(TOKEN);
  const apiRoot = await api.listen();
  ws = cliWorkspace();
  config = join(ws.dataDir, "gatehouse.yaml");
  writeFileSync(config, `channels:\n  telegram:\n    token: "${TOKEN}"\n    apiRoot: "${apiRoot}"\n`);
});

afterAll(async () => {
  await api?.close();
  ws?.cleanup();
});

async function say(userId: number, text: string): Promise<string> {
  const before = api.textsTo(userId).length;
  api.push(api.message(userId, text, { firstName: `User${userId}` }));
  await until(() => api.textsTo(userId).length > before, `a reply to ${userId}`, WAIT);
  return api.textsTo(userId)[before]!;
}

const cardsTo = (ownerId: number) => api.sentTo(ownerId).filter((call) => call.body.reply_markup !== undefined);
const gatehouse = (...args: string[]) => runGatehouse([...args, ...ws.args, "--config", config], { timeoutMs: 60_000 });

describe("gatehouse start and gatehouse owner", () => {
  it("prints a claim code at the first start; its sender becomes an owner with cards; owner claim/list/revoke manage more", async () => {
    const gateway = await startGatehouse([...ws.args, "--config", config, "--port", "0"]);
    try {
      const printed = CLAIM_LINE.exec(gateway.output())?.[1];
      expect(printed, gateway.output()).toBeDefined();
      expect(gateway.output()).toContain(`/owner ${printed}`);

      expect(await say(900, `/owner ${printed}`)).toMatch(CLAIMED);
      expect(await say(901, printed!)).toBe(REFUSED);
      expect(await say(42, "hello, may I?")).toMatch(PAIR_CODE);
      await until(() => cardsTo(900).length === 1, "the card to the new owner", WAIT);
      expect(cardsTo(901)).toHaveLength(0);

      // Another code from the CLI while the gateway runs (another process on the same store).
      const claim = await gatehouse("owner", "claim", "telegram");
      expect(claim.code, claim.stderr).toBe(0);
      const second = CLAIM_LINE.exec(claim.stdout)?.[1];
      expect(second, claim.stdout).toBeDefined();
      expect(await say(901, second!)).toMatch(CLAIMED);

      const listed = await gatehouse("owner", "list", "--json");
      expect(listed.code, listed.stderr).toBe(0);
      const { owners } = JSON.parse(listed.stdout) as { owners: Array<{ channelType: string; userId: string }> };
      expect(owners.map((o) => `${o.channelType}:${o.userId}`).sort()).toEqual(["telegram:900", "telegram:901"]);

      const revoked = await gatehouse("owner", "revoke", "telegram", "901");
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(await say(901, "still an owner?")).toMatch(PAIR_CODE);

      const again = await gatehouse("owner", "revoke", "telegram", "901");
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/not revoked: 901 is not an owner of telegram/);
      // Nothing the CLI printed or the gateway logged holds the codes except the lines meant to show them.
      expect(gateway.output().split(printed!)).toHaveLength(3);
      expect(gateway.output()).not.toContain(second!);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }

    // With an owner in the store, the next start prints no claim code.
    const restarted = await startGatehouse([...ws.args, "--config", config, "--port", "0"]);
    try {
      expect(restarted.output()).not.toMatch(CLAIM_LINE);
      expect(restarted.output()).not.toMatch(/Owner-claim codes/);
    } finally {
      expect(await restarted.stop()).toBe(0);
    }
  }, 180_000);

  it("refuses a channel nothing can claim and bad ids, changing nothing", async () => {
    const bogus = await gatehouse("owner", "claim", "bogus");
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/unknown chat channel "bogus": use one of .*telegram/);
    const webchat = await gatehouse("owner", "claim", "webchat");
    expect(webchat.code).toBe(2);
    const badId = await gatehouse("owner", "revoke", "telegram", "");
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/userId must not be empty/);
  }, 120_000);
});
