import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { signButtonToken, buttonKey } from "../src/pairing/buttons.js";
import { InMemoryChatAdapter, testClock, testGateway, type TestGateway } from "./channels-context.js";
import { until } from "./support/until.js";

const OWNER = "900";
const CT = "chat";

let gateway: TestGateway | null = null;
let stopPlugin: (() => Promise<void>) | null = null;

afterEach(async () => {
  await stopPlugin?.();
  await gateway?.close();
  gateway = null;
  stopPlugin = null;
});

async function setup(policy: Parameters<typeof testGateway>[0]["policy"] = {}) {
  const clock = testClock();
  gateway = await testGateway({ clock, policy: { ownerUserIds: [OWNER], ...policy } });
  const adapter = new InMemoryChatAdapter(CT);
  const plugin = channelPlugin(adapter, { now: clock.now });
  await plugin.start(gateway.ctx);
  stopPlugin = () => plugin.stop();
  return { clock, gw: gateway, adapter };
}

const CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;

describe("channel router: unknown sender -> owner card -> decision", () => {
  it("approve: the sender gets a code, the owner a card, the approval lets the first and next messages reach the agent", async () => {
    const { gw, adapter } = await setup();
    await adapter.deliver("42", "hello there", "42", "Alice");
    const [reply] = adapter.textsTo("42");
    const code = CODE.exec(reply ?? "")?.[0];
    expect(code).toBeDefined();
    expect(reply).toMatch(/owner has been asked/);
    expect(gw.agentCalls).toHaveLength(0);
    expect(adapter.cards).toHaveLength(1);
    const card = adapter.cards[0]!;
    expect(card.ownerId).toBe(OWNER);
    expect(card.request).toMatchObject({
      code,
      senderId: "42",
      senderName: "Alice",
      channelType: CT,
      firstMessage: "hello there",
    });
    expect(card.request.text).toContain("Alice");

    const pressed = await adapter.press(card.request.approveToken, OWNER);
    expect(pressed.answers).toEqual([{ text: expect.stringMatching(/^Approved/), removeButtons: true }]);
    expect(await gw.stores.pairing.isPaired("42", CT)).toBe(true);
    await until(() => adapter.textsTo("42").some((t) => t === "echo: hello there"), "the first message's reply");
    expect(adapter.textsTo("42")).toContain("Good news: the owner approved you. You can talk to the assistant now.");
    expect(gw.agentCalls[0]).toEqual({ text: "hello there", sessionId: `${CT}:42:42`, userId: "42" });

    await adapter.deliver("42", "second");
    expect(adapter.textsTo("42").at(-1)).toBe("echo: second");
    const [approved] = (await gw.stores.pairing.audit({ type: "approved" })).events;
    expect(approved?.actor).toBe(`${CT}:${OWNER}`);
  });

  it("deny: the sender is told politely and cannot re-request during the cooldown", async () => {
    const { gw, adapter } = await setup();
    await adapter.deliver("42", "hi");
    const pressed = await adapter.press(adapter.cards[0]!.request.denyToken, OWNER);
    expect(pressed.answers[0]).toEqual({ text: expect.stringMatching(/^Denied/), removeButtons: true });
    await until(() => adapter.textsTo("42").some((t) => /declined/.test(t)), "the deny notice");
    expect(await gw.stores.pairing.isPaired("42", CT)).toBe(false);
    await adapter.deliver("42", "please?");
    expect(adapter.textsTo("42").at(-1)).toMatch(/declined recently/);
    expect(adapter.cards).toHaveLength(1);
    expect(gw.agentCalls).toHaveLength(0);
  });

  it("a replayed press is refused visibly and changes nothing", async () => {
    const { gw, adapter } = await setup();
    await adapter.deliver("42", "hi");
    const { approveToken, denyToken } = adapter.cards[0]!.request;
    await adapter.press(approveToken, OWNER);
    expect((await adapter.press(approveToken, OWNER)).answers).toEqual([
      { text: "This request was already handled.", removeButtons: true },
    ]);
    expect((await adapter.press(denyToken, OWNER)).answers[0]?.text).toBe("This request was already handled.");
    expect(await gw.stores.pairing.isPaired("42", CT)).toBe(true);
    expect((await gw.stores.pairing.audit({ type: "denied" })).events).toHaveLength(0);
  });

  it("an expired button is refused and changes nothing", async () => {
    const { gw, clock, adapter } = await setup();
    await adapter.deliver("42", "hi");
    const { approveToken } = adapter.cards[0]!.request;
    clock.advance(60 * 60_000 + 1000);
    expect((await adapter.press(approveToken, OWNER)).answers).toEqual([
      { text: expect.stringMatching(/expired/), removeButtons: true },
    ]);
    expect(await gw.stores.pairing.isPaired("42", CT)).toBe(false);
  });

  it("a forged or altered token is refused and changes nothing", async () => {
    const { gw, adapter } = await setup();
    await adapter.deliver("42", "hi");
    const { code, approveToken, expiresAt } = adapter.cards[0]!.request;
    const forged = signButtonToken(buttonKey(Buffer.alloc(32, 7)), {
      action: "approve",
      channelType: CT,
      code,
      recipient: OWNER,
      expiresAt,
    });
    expect((await adapter.press(forged, OWNER)).answers).toEqual([
      { text: "This button is not valid. Nothing was changed.", removeButtons: false },
    ]);
    const altered = approveToken.slice(0, -2) + (approveToken.endsWith("AA") ? "BB" : "AA");
    expect((await adapter.press(altered, OWNER)).answers[0]?.text).toMatch(/not valid/);
    expect((await adapter.press("garbage", OWNER)).answers[0]?.text).toMatch(/not valid/);
    expect(await gw.stores.pairing.isPaired("42", CT)).toBe(false);
    expect(await gw.stores.pairing.pendingFor("42", CT)).not.toBeNull();
  });

  it("a press by a non-owner or from another chat is refused and changes nothing", async () => {
    const { gw, adapter } = await setup();
    await adapter.deliver("42", "hi");
    const { approveToken } = adapter.cards[0]!.request;
    expect((await adapter.press(approveToken, "42")).answers[0]?.text).toBe(
      "Only the owner can approve or deny requests.",
    );
    expect((await adapter.press(approveToken, OWNER, "group-1")).answers[0]?.text).toMatch(/own direct chat/);
    expect(await gw.stores.pairing.isPaired("42", CT)).toBe(false);
  });

  it("a card signed for one owner does not work for another owner", async () => {
    const { gw, adapter } = await setup({ ownerUserIds: [OWNER, `${CT}:901`, "discord:902"] });
    await adapter.deliver("42", "hi");
    expect(adapter.cards.map((c) => c.ownerId).sort()).toEqual([OWNER, "901"]);
    const mine = adapter.cards.find((c) => c.ownerId === OWNER)!;
    expect((await adapter.press(mine.request.approveToken, "901")).answers[0]?.text).toMatch(/not valid/);
    expect(await gw.stores.pairing.isPaired("42", CT)).toBe(false);
  });

  it("a flood of 20 messages from one unknown sender makes one code and one owner DM", async () => {
    const { gw, adapter } = await setup();
    await Promise.all(Array.from({ length: 20 }, (_, i) => adapter.deliver("66", `spam ${i}`)));
    expect(adapter.cards).toHaveLength(1);
    const codes = new Set(adapter.textsTo("66").map((t) => CODE.exec(t)?.[0]));
    expect(codes.size).toBe(1);
    expect(adapter.textsTo("66").length).toBeLessThanOrEqual(2);
    expect(await gw.stores.pairing.listPending(CT)).toHaveLength(1);
    expect(gw.agentCalls).toHaveLength(0);
  });

  it("an approval from another path (CLI/HTTP: the store directly) also tells the sender and delivers the first message", async () => {
    const { gw, adapter } = await setup();
    await adapter.deliver("42", "from the cli please", "42");
    const code = adapter.cards[0]!.request.code;
    expect(await gw.stores.pairing.approve(CT, code, "", "", { approvedBy: "cli" })).toBe(true);
    await until(() => adapter.textsTo("42").includes("echo: from the cli please"), "the first message's reply");
  });

  it("/pair redeems an owner invite but never the sender's own request code", async () => {
    const { gw, adapter } = await setup();
    await adapter.deliver("42", "hi");
    const ownCode = adapter.cards[0]!.request.code;
    await adapter.deliver("42", `/pair ${ownCode}`);
    expect(adapter.textsTo("42").at(-1)).toBe("That invite code is not valid, has expired or was already used.");
    expect(await gw.stores.pairing.isPaired("42", CT)).toBe(false);

    const invite = await gw.stores.pairing.generateCode(CT);
    await adapter.deliver("77", "/pair");
    expect(adapter.textsTo("77").at(-1)).toMatch(/followed by your invite code/);
    await adapter.deliver("77", "/pair not-a-code!");
    expect(adapter.textsTo("77").at(-1)).toMatch(/does not look like/);
    await adapter.deliver("77", `/pair@mybot ${invite.toLowerCase()}`);
    expect(adapter.textsTo("77").at(-1)).toMatch(/^Welcome/);
    expect(await gw.stores.pairing.isPaired("77", CT)).toBe(true);
    await adapter.deliver("77", "now talk");
    expect(adapter.textsTo("77").at(-1)).toBe("echo: now talk");
  });

  it("owners and allowlisted senders pass; each sender in a group gets their own session", async () => {
    const { gw, adapter } = await setup({ allowedUsers: ["5"] });
    await adapter.deliver(OWNER, "/pair group", "group-1");
    await until(() => adapter.textsTo("group-1").some((t) => /group is approved/.test(t)), "the group's approval");
    await adapter.deliver(OWNER, "boss here", "group-1");
    await adapter.deliver("5", "friend here", "group-1");
    expect(gw.agentCalls.map((c) => c.sessionId)).toEqual([`${CT}:group-1:${OWNER}`, `${CT}:group-1:5`]);
    expect((await gw.stores.sessions.lookup(`${CT}:group-1:${OWNER}`))?.role).toBe("owner");
  });

  it("policy deny drops unknown senders silently", async () => {
    const { gw, adapter } = await setup({ unknownUserPolicy: "deny" });
    await adapter.deliver("42", "hi");
    expect(adapter.sent).toHaveLength(0);
    expect(adapter.cards).toHaveLength(0);
    expect(gw.agentCalls).toHaveLength(0);
  });

  it("a store that is down fails closed: the sender is told, nobody is admitted, no button decides", async () => {
    const { gw, adapter } = await setup();
    await adapter.deliver("42", "hi");
    const { approveToken } = adapter.cards[0]!.request;
    await gw.stores.pairing.close();
    await adapter.deliver("43", "hello");
    expect(adapter.textsTo("43").at(-1)).toMatch(/temporarily unavailable/);
    expect((await adapter.press(approveToken, OWNER)).answers[0]?.text).toMatch(/temporarily unavailable/);
    expect(gw.agentCalls).toHaveLength(0);
  });

  it("never logs codes or tokens", async () => {
    const { gw, adapter } = await setup();
    await adapter.deliver("42", "hi");
    const { code, approveToken } = adapter.cards[0]!.request;
    await adapter.press(approveToken, "42");
    await adapter.press("garbage", OWNER);
    await adapter.press(approveToken, OWNER);
    const logText = gw.logs.join("\n");
    expect(gw.logs.length).toBeGreaterThan(0);
    expect(logText).not.toContain(code);
    expect(logText).not.toContain(code.replace("-", ""));
    expect(logText).not.toContain(approveToken);
  });
});

describe("channel router: per-channel settings", () => {
  it("owners named on the channel are owners on that channel only, and the channel's policy overrides the gateway's", async () => {
    const clock = testClock();
    gateway = await testGateway({ clock, policy: { ownerUserIds: [], unknownUserPolicy: "deny" } });
    const adapter = new InMemoryChatAdapter(CT);
    const plugin = channelPlugin(adapter, { now: clock.now, ownerUserIds: ["555"], unknownUserPolicy: "pair" });
    await plugin.start(gateway.ctx);
    stopPlugin = () => plugin.stop();
    await adapter.deliver("42", "hi");
    expect(adapter.cards.map((c) => c.ownerId)).toEqual(["555"]);
    expect((await adapter.press(adapter.cards[0]!.request.approveToken, "555")).answers[0]?.text).toMatch(/^Approved/);
    expect(await gateway.ctx.isOwner(CT, "555")).toBe(false);
  });
});
