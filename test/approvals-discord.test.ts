/**
 * An agent's action card on Discord (the real discord.js client against the local Discord): the owner's Approve decides
 * and the card is edited to say who; a forged token, a press by someone else and a replayed press change nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DiscordAdapter } from "../src/channels/discord/adapter.js";
import { channelPlugin } from "../src/channels/router.js";
import { testClock, testGateway, type TestGateway } from "./channels-context.js";
import { DiscordEmulator } from "./support/discord-emulator.js";
import { until } from "./support/until.js";

const TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.local_discord_test_token_abcdefghijkl";
const OWNER = "900000000000000001";
const ALICE = "900000000000000042";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function start(): Promise<{ discord: DiscordEmulator; gw: TestGateway }> {
  const discord = new DiscordEmulator(TOKEN);
  const apiRoot = await discord.listen();
  discord.addUser({ id: OWNER, username: "owner" });
  discord.addUser({ id: ALICE, username: "alice" });
  const clock = testClock(Date.now());
  const gw = await testGateway({ clock, policy: { ownerUserIds: [OWNER] } });
  const plugin = channelPlugin(new DiscordAdapter({ token: TOKEN, apiRoot }), { now: clock.now });
  cleanup.push(
    () => discord.close(),
    () => gw.close(),
  );
  await plugin.start(gw.ctx);
  cleanup.push(() => plugin.stop());
  return { discord, gw };
}

interface Card {
  message: Record<string, unknown>;
  approve: string;
  deny: string;
}

async function cardOf(discord: DiscordEmulator): Promise<Card> {
  const dm = discord.dmOf(OWNER);
  await until(() => discord.messagesIn(dm).length === 1, "the action card");
  const body = discord.messagesIn(dm)[0]!;
  const message = { ...body, id: discord.botMessageIds(dm)[0]!, channel_id: dm };
  const [approve, deny] = (body.components as Array<{ components: Array<{ custom_id: string }> }>)[0]!.components.map(
    (b) => b.custom_id,
  );
  return { message, approve: approve!, deny: deny! };
}

const editsOf = (discord: DiscordEmulator, card: Card): Array<Record<string, unknown>> =>
  discord.callsTo("PATCH", `/channels/${discord.dmOf(OWNER)}/messages/${String(card.message.id)}`).map((c) => c.body);

/** Presses a button and returns what the bot answered: the callback type and its content. */
async function press(
  discord: DiscordEmulator,
  userId: string,
  customId: string,
  message: Record<string, unknown>,
): Promise<{ type: unknown; content: string }> {
  const id = discord.press(userId, customId, message);
  await until(() => discord.callbacksOf(id).length === 1, "the press answer");
  const answer = discord.callbacksOf(id)[0]!;
  return { type: answer.type, content: String((answer.data as { content?: string }).content) };
}

const request = {
  tool: "deploy",
  arguments: { env: "prod @everyone <@900000000000000042>\n**now**" },
  risk: "high" as const,
  agent: "ci",
  session: "s",
  context: {},
};

describe("approvals on Discord", () => {
  it("sends the owner an action card with the arguments quoted; Approve decides and the card is edited to say who", async () => {
    const { discord, gw } = await start();
    await gw.ctx.approvals!.create("agent-1", { id: "discord-1", ...request });
    const card = await cardOf(discord);
    const lines = String(card.message.content).split("\n");
    expect(lines).toHaveLength(6);
    expect(lines.find((l) => l.startsWith("Arguments:"))).toMatch(/^Arguments: `.*@everyone.*`$/);
    expect(card.message.allowed_mentions).toEqual({ parse: [] });

    expect(await press(discord, OWNER, card.approve, card.message)).toEqual({
      type: 7,
      content: expect.stringContaining("Approved: the agent may run deploy.") as unknown as string,
    });
    expect(await gw.ctx.approvals!.get("discord-1")).toMatchObject({
      status: "approved",
      approver: `discord:${OWNER}`,
    });
    await until(() => editsOf(discord, card).length === 1, "the card edited");
    const edit = editsOf(discord, card)[0]!;
    expect(String(edit.content).split("\n").at(-1)).toBe(`Approved by discord\\:${OWNER}.`); // Discord markdown escapes the colon
    expect(edit.components).toEqual([]);
  });

  it("a forged token, a press by someone else and a replayed press change nothing", async () => {
    const { discord, gw } = await start();
    await gw.ctx.approvals!.create("agent-1", { id: "discord-2", ...request });
    const card = await cardOf(discord);
    // forged: one character of the MAC changed
    const forged = card.approve.slice(0, -2) + (card.approve.at(-2) === "A" ? "B" : "A") + card.approve.at(-1);
    expect(await press(discord, OWNER, forged, card.message)).toEqual({
      type: 4,
      content: "This button is not valid. Nothing was changed.",
    });
    expect(await press(discord, ALICE, card.approve, card.message)).toEqual({
      type: 4,
      content: "Only the owner can approve or deny requests.",
    });
    expect(await gw.ctx.approvals!.get("discord-2")).toMatchObject({ status: "pending" });

    expect((await press(discord, OWNER, card.deny, card.message)).content).toContain(
      "Denied: the agent will not run deploy.",
    );
    const handled = `Already decided. Denied by discord:${OWNER}. Nothing was changed.`;
    expect((await press(discord, OWNER, card.deny, card.message)).content).toContain(handled);
    expect((await press(discord, OWNER, card.approve, card.message)).content).toContain(handled);
    expect(await gw.ctx.approvals!.get("discord-2")).toMatchObject({ status: "denied", approver: `discord:${OWNER}` });
  });
});
