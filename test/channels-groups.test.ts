import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { DEFAULT_MESSAGES } from "../src/channels/messages.js";
import type { GroupPolicy } from "../src/channels/group-chat.js";
import { InMemoryChatAdapter, testClock, testGateway, type TestGateway } from "./channels-context.js";
import { until } from "./support/until.js";

/**
 * Group chats at the router, through the public channel contract (the in-memory adapter plays a platform adapter that
 * reports direct/group, addressed and the group's title); the platform suites drive the same rules through grammY,
 * Bolt and discord.js.
 */
const OWNER = "900";
const CT = "chat";
const GROUP = "group-1";
const CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(groupPolicy?: GroupPolicy): Promise<{ gw: TestGateway; adapter: InMemoryChatAdapter }> {
  const clock = testClock();
  const gw = await testGateway({ clock, policy: { ownerUserIds: [OWNER] } });
  const adapter = new InMemoryChatAdapter(CT);
  const plugin = channelPlugin(adapter, { now: clock.now, ...(groupPolicy ? { groupPolicy } : {}) });
  await plugin.start(gw.ctx);
  cleanup.push(
    () => gw.close(),
    () => plugin.stop(),
  );
  return { gw, adapter };
}

const inGroup = (adapter: InMemoryChatAdapter, sender: string, text: string, addressed = true) =>
  adapter.deliver(sender, text, GROUP, `user ${sender}`, { addressed, chatName: "Book club" });

async function approveGroupByCard(gw: TestGateway, adapter: InMemoryChatAdapter): Promise<void> {
  const card = adapter.cards.find((c) => c.request.senderId === `group:${GROUP}`);
  expect(card, "the group's card").toBeDefined();
  expect((await adapter.press(card!.request.approveToken, OWNER)).answers[0]?.text).toMatch(/^Approved/);
  await until(() => adapter.textsTo(GROUP).includes(DEFAULT_MESSAGES.groupApproved), "the group to hear of it");
  expect(await gw.stores.pairing.isPaired(`group:${GROUP}`, CT)).toBe(true);
}

describe("group chats", () => {
  it("ignores messages that do not address the bot", async () => {
    const { gw, adapter } = await setup();
    await inGroup(adapter, "42", "just chatting", false);
    await inGroup(adapter, OWNER, "me too", false);
    expect(adapter.sent).toEqual([]);
    expect(adapter.cards).toEqual([]);
    expect(await gw.stores.pairing.listPending(CT)).toEqual([]);
    expect(gw.agentCalls).toEqual([]);
  });

  it("an unapproved group never reaches the agent and never sees a code; the owner gets the group's card", async () => {
    const { gw, adapter } = await setup();
    await inGroup(adapter, "42", "@bot hello");
    await inGroup(adapter, "43", "@bot me too");
    expect(adapter.textsTo(GROUP)).toEqual([DEFAULT_MESSAGES.groupPending]);
    expect(adapter.textsTo(GROUP).join("\n")).not.toMatch(CODE);
    const pending = await gw.stores.pairing.listPending(CT);
    expect(pending.map((p) => p.channelId)).toEqual([`group:${GROUP}`]);
    expect(adapter.cards).toHaveLength(1);
    expect(adapter.cards[0]!.request.senderName).toBe("Book club");
    expect(gw.agentCalls).toEqual([]);
    // The owner's own message there does not reach the agent either; they are told how to approve the group.
    await inGroup(adapter, OWNER, "@bot status?");
    expect(adapter.textsTo(GROUP).at(-1)).toBe(DEFAULT_MESSAGES.groupOwnerHint);
    expect(gw.agentCalls).toEqual([]);
  });

  it("members policy: in an approved group an unpaired member is asked to message privately, pairs in a DM, then talks in the group with their own session", async () => {
    const { gw, adapter } = await setup();
    await inGroup(adapter, "42", "@bot hello");
    await approveGroupByCard(gw, adapter);
    await inGroup(adapter, "42", "@bot now?");
    expect(adapter.textsTo(GROUP).at(-1)).toBe(DEFAULT_MESSAGES.groupAskPrivately("user 42"));
    expect(adapter.textsTo(GROUP).join("\n")).not.toMatch(CODE);
    expect(await gw.stores.pairing.listPending(CT)).toEqual([]);
    expect(gw.agentCalls).toEqual([]);

    await adapter.deliver("42", "hi in private");
    expect(adapter.textsTo("42")[0]).toMatch(CODE);
    const card = adapter.cards.find((c) => c.request.senderId === "42")!;
    await adapter.press(card.request.approveToken, OWNER);
    await until(() => adapter.textsTo("42").includes("echo: hi in private"), "the replayed DM");
    await inGroup(adapter, "42", "@bot and now?");
    await until(() => adapter.textsTo(GROUP).includes("echo: @bot and now?"), "the answer in the group");
    expect(gw.agentCalls.at(-1)?.sessionId).toBe(`${CT}:${GROUP}:42`);
  });

  it("group policy: an approved group admits every member who addresses the bot, only in that group", async () => {
    const { gw, adapter } = await setup("group");
    await inGroup(adapter, "42", "@bot hello");
    await approveGroupByCard(gw, adapter);
    await inGroup(adapter, "44", "@bot hi all");
    await until(() => adapter.textsTo(GROUP).includes("echo: @bot hi all"), "the answer");
    expect(gw.agentCalls.map((c) => c.sessionId)).toEqual([`${CT}:${GROUP}:44`]);
    expect(await gw.stores.pairing.isPaired("44", CT)).toBe(false);
    await adapter.deliver("44", "and privately?");
    expect(adapter.textsTo("44")[0]).toMatch(CODE);
    expect(gw.agentCalls).toHaveLength(1);
  });

  it("an owner's /pair group approves the group; anyone else's changes nothing and codes are never redeemed in a group", async () => {
    const { gw, adapter } = await setup();
    await inGroup(adapter, "42", "/pair group");
    const invite = await gw.stores.pairing.generateCode(CT);
    await inGroup(adapter, "43", `/pair ${invite}`);
    expect(await gw.stores.pairing.isPaired(`group:${GROUP}`, CT)).toBe(false);
    expect(await gw.stores.pairing.isPaired("43", CT)).toBe(false);
    expect(adapter.textsTo(GROUP)).toEqual([
      DEFAULT_MESSAGES.groupAskPrivately("user 42"),
      DEFAULT_MESSAGES.groupAskPrivately("user 43"),
    ]);

    await inGroup(adapter, OWNER, "/pair group");
    await until(() => adapter.textsTo(GROUP).includes(DEFAULT_MESSAGES.groupApproved), "the approval notice");
    const approved = (await gw.stores.pairing.audit({ limit: 100 })).events.find((e) => e.type === "approved");
    expect(approved).toMatchObject({ channelId: `group:${GROUP}` });
    await inGroup(adapter, OWNER, "/pair group");
    expect(adapter.textsTo(GROUP).at(-1)).toBe(DEFAULT_MESSAGES.groupAlreadyApproved);
  });

  it("a revoked group stops reaching the agent at once", async () => {
    const { gw, adapter } = await setup("group");
    await inGroup(adapter, OWNER, "/pair group");
    await until(() => adapter.textsTo(GROUP).includes(DEFAULT_MESSAGES.groupApproved), "the approval");
    await inGroup(adapter, "44", "@bot one");
    await until(() => gw.agentCalls.length === 1, "the first answer");
    await gw.stores.pairing.revoke(`group:${GROUP}`, CT);
    await inGroup(adapter, "44", "@bot two");
    expect(gw.agentCalls).toHaveLength(1);
  });
});
