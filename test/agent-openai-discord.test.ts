import { afterEach, describe, expect, it } from "vitest";
import { DiscordAdapter } from "../src/channels/discord/adapter.js";
import { channelPlugin, type ChannelRouterOptions } from "../src/channels/router.js";
import { DiscordEmulator } from "./support/discord-emulator.js";
import { startOpenAiGateway } from "./support/openai-agent.js";
import { until } from "./support/until.js";

const TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.local_discord_test_token_abcdefghijkl";
const ALICE = "900000000000000042";

// End to end: a Discord user (discord.js against the local Discord) talks to the openai agent (the official client
// against the local model server) through the real gateway.
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function start(router?: ChannelRouterOptions) {
  const discord = new DiscordEmulator(TOKEN);
  const apiRoot = await discord.listen();
  cleanup.push(() => discord.close());
  discord.addUser({ id: ALICE, username: "alice" });
  const adapter = new DiscordAdapter({ token: TOKEN, apiRoot });
  const { model } = await startOpenAiGateway(cleanup, {
    allowedUsers: [ALICE],
    channels: [channelPlugin(adapter, router)],
  });
  return { model, discord, adapter, dm: discord.dmOf(ALICE) };
}

describe("openai agent on Discord", () => {
  it("shows typing, then edits one message at most once a second as the reply streams, ending with the whole reply", async () => {
    const { model, discord, dm } = await start();
    model.setTiming({ firstTokenDelayMs: 300, tokenIntervalMs: 120 });
    const reply =
      "Streaming replies now arrive piece by piece on Discord as well as on Telegram, and each edit waits a second so the channel stays well inside its rate limits";
    model.next({ kind: "reply", text: reply });
    discord.userWrites(ALICE, "stream please");
    await until(() => discord.messagesIn(dm).length === 1, "the first streamed words", 10_000);
    const [posted] = discord.callsTo("POST", `/channels/${dm}/messages`);
    const id = lastMessageId(discord, dm);
    await until(() => discord.contentOf(id) === reply, "the whole reply shown", 15_000);
    expect(discord.callsTo("POST", `/channels/${dm}/typing`).length).toBeGreaterThan(0);
    expect(discord.callsTo("POST", `/channels/${dm}/typing`)[0]!.at).toBeLessThan(posted!.at);
    // One message, edited (not one message per token), and never twice within a second while streaming (the edit
    // that shows the complete reply goes out at once).
    expect(discord.messagesIn(dm)).toHaveLength(1);
    const edits = discord.callsTo("PATCH", `/channels/${dm}/messages/${id}`);
    expect(edits.length).toBeGreaterThan(2);
    expect(edits.length).toBeLessThan(reply.split(" ").length / 2);
    for (let i = 1; i < edits.length - 1; i++) expect(edits[i]!.at - edits[i - 1]!.at).toBeGreaterThanOrEqual(900);
  });

  it('"final" mode sends the reply once, complete, after typing, with no edits', async () => {
    const { model, discord, dm } = await start({ replyMode: "final" });
    model.setTiming({ tokenIntervalMs: 20 });
    model.next({ kind: "reply", text: "all at once please" });
    discord.userWrites(ALICE, "hi");
    await until(() => discord.messagesIn(dm).length > 0, "the reply", 10_000);
    expect(discord.messagesIn(dm).map((m) => m.content)).toEqual(["all at once please"]);
    expect(discord.calls.filter((c) => c.method === "PATCH")).toHaveLength(0);
    expect(discord.callsTo("POST", `/channels/${dm}/typing`).length).toBeGreaterThan(0);
  });

  it("splits a long answer at Discord's 2000 limit without cutting a character", async () => {
    const { model, discord, dm } = await start({ replyMode: "final" });
    const long = "😀".repeat(2500) + " end";
    model.next({ kind: "reply", text: long });
    discord.userWrites(ALICE, "long one");
    await until(
      () =>
        discord
          .messagesIn(dm)
          .map((m) => String(m.content))
          .join("")
          .endsWith(" end"),
      "every part",
      10_000,
    );
    const parts = discord.messagesIn(dm).map((m) => String(m.content));
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect([...part].length).toBeLessThanOrEqual(2000);
    expect(parts.join("")).toBe(long);
  });

  it("an edit answered 429 is retried after retry_after and the reply still ends complete", async () => {
    const { model, discord, dm } = await start();
    model.setTiming({ firstTokenDelayMs: 100, tokenIntervalMs: 200 });
    const reply = "one two three four five six seven eight nine ten";
    model.next({ kind: "reply", text: reply });
    discord.userWrites(ALICE, "go");
    await until(() => discord.messagesIn(dm).length === 1, "the first streamed words", 10_000);
    const id = lastMessageId(discord, dm);
    discord.rateLimit(`/channels/${dm}/messages/${id}`, 2);
    await until(() => discord.contentOf(id) === reply, "the whole reply after the 429", 15_000);
    expect(discord.calls.some((c) => c.method === "PATCH" && c.status === 429)).toBe(true);
    expect(discord.messagesIn(dm)).toHaveLength(1);
  });

  it("an edit of an unknown message or of someone else's is refused as Discord refuses it (10008, 50005)", async () => {
    const { discord, adapter, dm } = await start();
    const theirs = discord.storeForeignMessage(dm, ALICE, "mine");
    await expect(adapter.streaming.edit(dm, theirs, "changed")).rejects.toMatchObject({ status: 403, code: 50005 });
    await expect(adapter.streaming.edit(dm, "1999999999999999999", "changed")).rejects.toMatchObject({
      status: 404,
      code: 10008,
    });
    expect(discord.contentOf(theirs)).toBe("mine");
  });
});

function lastMessageId(discord: DiscordEmulator, channelId: string): string {
  return discord.botMessageIds(channelId).at(-1)!;
}
