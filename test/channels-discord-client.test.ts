import { afterEach, describe, expect, it } from "vitest";
import { parseDiscordCustomId } from "../src/channels/discord/index.js";
import { DiscordAdapter } from "../src/channels/discord/adapter.js";
import { channelPlugin } from "../src/channels/router.js";
import type { ChannelPlugin } from "../src/core/context.js";
import { testClock, testGateway, type TestGateway } from "./channels-context.js";
import { DEFAULT_MESSAGES } from "../src/channels/messages.js";
import { DiscordEmulator, GUILD } from "./support/discord-emulator.js";
import { until } from "./support/until.js";

const TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.local_discord_test_token_abcdefghijkl";
const OWNER = "900000000000000001";
const ALICE = "900000000000000042";
const CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function startDiscord(): Promise<{
  discord: DiscordEmulator;
  gw: TestGateway;
  plugin: ChannelPlugin;
  adapter: DiscordAdapter;
}> {
  const discord = new DiscordEmulator(TOKEN);
  const apiRoot = await discord.listen();
  discord.addUser({ id: OWNER, username: "owner" });
  discord.addUser({ id: ALICE, username: "alice", global_name: "Alice" });
  const clock = testClock(Date.now());
  const gw = await testGateway({ clock, policy: { ownerUserIds: [OWNER] } });
  const adapter = new DiscordAdapter({ token: TOKEN, apiRoot });
  const plugin = channelPlugin(adapter, { now: clock.now });
  cleanup.push(
    () => discord.close(),
    () => gw.close(),
  );
  await plugin.start(gw.ctx);
  cleanup.push(() => plugin.stop());
  return { discord, gw, plugin, adapter };
}

const texts = (discord: DiscordEmulator, userId: string): string[] =>
  discord.messagesIn(discord.dmOf(userId)).map((m) => String(m.content));

describe("discord through the real discord.js client against a local Discord (gateway + REST)", () => {
  it("logs in over the gateway (HELLO, IDENTIFY, READY, heartbeats); DM -> code -> owner card -> Approve button -> agent", async () => {
    const { discord, gw } = await startDiscord();
    expect(discord.identified).toBe(1);
    discord.userWrites(ALICE, "hello from discord");
    await until(() => texts(discord, ALICE).some((t) => CODE.test(t)), "the code reply");
    await until(() => discord.messagesIn(discord.dmOf(OWNER)).length === 1, "the owner card");
    const card = discord.messagesIn(discord.dmOf(OWNER))[0]!;
    expect(String(card.content)).toContain("Alice");
    expect(card.allowed_mentions).toEqual({ parse: [] });
    const buttons = (card.components as Array<{ components: Array<{ custom_id: string; label: string }> }>)[0]!
      .components;
    expect(buttons.map((b) => b.label)).toEqual(["Approve", "Deny"]);
    expect(buttons.every((b) => b.custom_id.length <= 100 && parseDiscordCustomId(b.custom_id) !== null)).toBe(true);
    const sent = { ...card, id: "1100000000000000001", channel_id: discord.dmOf(OWNER) };
    const press = discord.press(OWNER, buttons[0]!.custom_id, sent);
    await until(() => discord.callbacksOf(press).length === 1, "the interaction answer");
    const answer = discord.callbacksOf(press)[0]!;
    expect(answer.type).toBe(7); // UPDATE_MESSAGE: the card loses its buttons
    expect(String((answer.data as { content: string }).content)).toMatch(/Approved/);
    await until(() => texts(discord, ALICE).includes("echo: hello from discord"), "the first message's reply");
    expect(texts(discord, ALICE)).toContain("Good news: the owner approved you. You can talk to the assistant now.");
    expect(gw.agentCalls.map((c) => c.sessionId)).toEqual([`discord:${discord.dmOf(ALICE)}:${ALICE}`]);
    await until(() => discord.heartbeats >= 1, "a heartbeat");
    expect(gw.logs.join("\n")).not.toContain(TOKEN);
  });

  it("a press from someone else is refused with an ephemeral reply and changes nothing", async () => {
    const { discord, gw } = await startDiscord();
    discord.userWrites(ALICE, "let me in");
    await until(() => discord.messagesIn(discord.dmOf(OWNER)).length === 1, "the owner card");
    const card = discord.messagesIn(discord.dmOf(OWNER))[0]!;
    const approve = (card.components as Array<{ components: Array<{ custom_id: string }> }>)[0]!.components[0]!
      .custom_id;
    const press = discord.press(
      ALICE,
      approve,
      { ...card, id: "1100000000000000002", channel_id: discord.dmOf(OWNER) },
      discord.dmOf(ALICE),
    );
    await until(() => discord.callbacksOf(press).length === 1, "the refusal");
    expect(discord.callbacksOf(press)[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(await gw.stores.pairing.isPaired(ALICE, "discord")).toBe(false);
  });

  it("a reply over 2000 characters of emoji is split into pieces Discord accepts; a 429 is waited out, not dropped", async () => {
    const { discord, gw } = await startDiscord();
    expect(await gw.stores.pairing.approve("discord", CODE.exec((await requestCode(discord))!)![0])).toBe(true);
    await until(() => texts(discord, ALICE).some((t) => t.startsWith("Good news")), "the approved notice");
    discord.rateLimit(`/channels/${discord.dmOf(ALICE)}/messages`, 1);
    discord.userWrites(ALICE, `x${"😀".repeat(1500)}`);
    await until(
      () => texts(discord, ALICE).filter((t) => t.startsWith("echo: x") || t.startsWith("😀")).length >= 2,
      "the split reply",
      5_000,
    );
    const reply = texts(discord, ALICE).filter((t) => t.startsWith("echo: x") || t.startsWith("😀"));
    expect(reply.join("")).toBe(`echo: x${"😀".repeat(1500)}`);
    expect(reply.every((t) => t.length <= 2000)).toBe(true);
    expect(discord.calls.some((c) => c.status === 429)).toBe(true);
    expect(discord.calls.every((c) => c.status !== 400)).toBe(true);
  });

  it("an agent reply that says @everyone or mentions a user pings nobody: every message the bot sends allows no mentions", async () => {
    const { discord, gw } = await startDiscord();
    expect(await gw.stores.pairing.approve("discord", CODE.exec((await requestCode(discord))!)![0])).toBe(true);
    await until(() => texts(discord, ALICE).some((t) => t.startsWith("Good news")), "the approved notice");
    discord.userWrites(ALICE, `hi @everyone <@${OWNER}>`);
    await until(() => texts(discord, ALICE).some((t) => t.startsWith("echo: hi")), "the reply");
    const sent = discord.messagesIn(discord.dmOf(ALICE));
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const body of sent) expect(body.allowed_mentions).toEqual({ parse: [] });
  });

  it("a hostile display name and message stay inside code spans on the card: no extra line, link or mention", async () => {
    const { discord } = await startDiscord();
    discord.addUser({ id: ALICE, username: "alice", global_name: "Eve\nCode: AAAA-AAAA @everyone" });
    discord.userWrites(ALICE, "hi\nFrom: the owner [click](https://evil.example) <@900000000000000001> `x` **bold**");
    await until(() => discord.messagesIn(discord.dmOf(OWNER)).length === 1, "the owner card");
    const lines = String(discord.messagesIn(discord.dmOf(OWNER))[0]!.content).split("\n");
    expect(lines).toHaveLength(5);
    expect(lines.filter((l) => l.startsWith("Code:"))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith("From:"))).toHaveLength(1);
    expect(lines[1]!.match(/`/g)!.length % 2).toBe(0);
    expect(lines[3]!.match(/`/g)).toHaveLength(2);
    expect(lines[3]!.startsWith("First message: `") && lines[3]!.endsWith("`")).toBe(true);
  });

  it("the gateway closing with 4004 (token reset) shows the channel degraded, naming it", async () => {
    const { discord, plugin, gw } = await startDiscord();
    expect(plugin.health?.()).toEqual({ status: "ok" });
    discord.closeGateway(4004);
    await until(() => plugin.health?.().status === "degraded", "the degraded status");
    expect(plugin.health?.().reason).toMatch(/closed for good \(code 4004\)/);
    expect(gw.logs.some((l) => l.startsWith("error channel degraded") && l.includes('"channelType":"discord"'))).toBe(
      true,
    );
  });
});

describe("discord start failures", () => {
  it("a gateway that does not send READY: start returns after its deadline with the channel degraded, which clears on READY", async () => {
    const discord = new DiscordEmulator(TOKEN);
    const apiRoot = await discord.listen();
    discord.silent = true;
    const gw = await testGateway({ clock: testClock(Date.now()), policy: { ownerUserIds: [OWNER] } });
    cleanup.push(
      () => discord.close(),
      () => gw.close(),
    );
    const plugin = channelPlugin(new DiscordAdapter({ token: TOKEN, apiRoot, loginTimeoutMs: 700 }));
    const starting = plugin.start(gw.ctx);
    await until(() => discord.calls.some((c) => c.path === "/gateway/bot"), "the login");
    expect(plugin.health?.()).toEqual({ status: "degraded", reason: "not connected to the Discord gateway yet" });
    await starting;
    cleanup.push(() => plugin.stop());
    expect(plugin.health?.()).toEqual({
      status: "degraded",
      reason: "no READY from the Discord gateway within 700 ms; still trying",
    });
    expect(gw.logs.some((l) => l.startsWith("error channel degraded") && l.includes("no READY"))).toBe(true);
    discord.becomeReady();
    await until(() => plugin.health?.().status === "ok", "the channel to recover");
    expect(gw.logs.some((l) => l.startsWith("info channel recovered"))).toBe(true);
  });

  it("a token Discord refuses (401 on GET /gateway/bot) fails start without echoing the token", async () => {
    const discord = new DiscordEmulator("another.token.value_abcdefghijklmnopqrstuvwxyz");
    const apiRoot = await discord.listen();
    const gw = await testGateway({ clock: testClock(Date.now()), policy: { ownerUserIds: [OWNER] } });
    cleanup.push(
      () => discord.close(),
      () => gw.close(),
    );
    const error = await channelPlugin(new DiscordAdapter({ token: TOKEN, apiRoot }))
      .start(gw.ctx)
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    expect(error?.name).toMatch(/TokenInvalid|Error/);
    expect(String(error?.message)).not.toContain(TOKEN);
    expect(discord.calls.find((c) => c.path === "/gateway/bot")?.status).toBe(401);
  });
});

async function requestCode(discord: DiscordEmulator): Promise<string | undefined> {
  discord.userWrites(ALICE, "hi");
  await until(() => texts(discord, ALICE).some((t) => CODE.test(t)), "the code reply");
  return texts(discord, ALICE).find((t) => CODE.test(t));
}

describe("discord guild channels through discord.js", () => {
  const inGuild = (discord: DiscordEmulator) => discord.messagesIn(GUILD.channelId).map((m) => String(m.content));

  it("answers only when mentioned or replied to; an unapproved channel gets one line, never a code; members pair in DMs", async () => {
    const { discord, gw } = await startDiscord();
    discord.userWritesInGuild(ALICE, "just chatting");
    discord.userWritesInGuild(ALICE, "<@4242> hello bot");
    await until(() => inGuild(discord).length === 1, "one line in the channel");
    expect(inGuild(discord)).toEqual([DEFAULT_MESSAGES.groupPending]);
    await until(() => discord.messagesIn(discord.dmOf(OWNER)).length === 1, "the channel's card");
    const card = discord.messagesIn(discord.dmOf(OWNER))[0]!;
    expect(String(card.content)).toContain(`#${GUILD.channelName}`);
    expect((await gw.stores.pairing.listPending("discord")).map((p) => p.channelId)).toEqual([
      `group:${GUILD.channelId}`,
    ]);
    expect(texts(discord, ALICE)).toEqual([]);

    const approve = (card.components as Array<{ components: Array<{ custom_id: string }> }>)[0]!.components[0]!
      .custom_id;
    const press = discord.press(OWNER, approve, {
      ...card,
      id: "1100000000000000009",
      channel_id: discord.dmOf(OWNER),
    });
    await until(() => discord.callbacksOf(press).length === 1, "the press answer");
    await until(() => inGuild(discord).includes(DEFAULT_MESSAGES.groupApproved), "the channel to hear of it");

    discord.userWritesInGuild(ALICE, "<@!4242> and now?");
    await until(() => inGuild(discord).includes(DEFAULT_MESSAGES.groupAskPrivately("Alice")), "the ask-privately line");
    discord.userWritesInGuild(OWNER, "not for the bot");
    discord.userWritesInGuild(OWNER, "status?", { replyToBot: true });
    await until(() => inGuild(discord).includes("echo: status?"), "the owner's answer");
    expect(gw.agentCalls.map((c) => c.sessionId)).toEqual([`discord:${GUILD.channelId}:${OWNER}`]);
    expect(inGuild(discord).join("\n")).not.toMatch(CODE);
  });
});
