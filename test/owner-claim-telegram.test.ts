/**
 * Becoming an owner with a one-time owner-claim code, through grammY against the local Telegram Bot API: the claimant
 * sends the code in a direct chat, is told they are an owner and gets the Approve/Deny cards from then on. Codes are
 * single use (also when two people race on two gateway instances sharing the store), expire after 10 minutes, and wrong
 * ones count toward the sender's guess limit. The store is a real SQLite file; a store that is down fails closed.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { TelegramAdapter } from "../src/channels/telegram/index.js";
import type { ChannelPlugin } from "../src/core/context.js";
import { createOwnerClaim, isStoreOwner, listStoreOwners, revokeStoreOwner } from "../src/core/owners.js";
import { formatCode, generateRawCode } from "../src/pairing/codes.js";
import { LocalBotApi } from "./channels-telegram-api.js";
import { InMemoryChatAdapter, testClock, testGateway, type TestClock, type TestGateway } from "./channels-context.js";
import { until } from "./support/until.js";

const TOKEN = "123456789:AAH-local_test_token_abcdefghijklmnopq";
const PAIR_CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;
const CLAIMED = /^You are now an owner of this bot's telegram channel\./;
const REFUSED = "That owner-claim code is not valid, has expired or was already used.";
const WAIT = 20_000; // ms: generous under load

interface Instance {
  api: LocalBotApi;
  gw: TestGateway;
  plugin: ChannelPlugin;
}

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A SQLite file, its secret and a clock, as several gateway instances share them. */
function sharedStore(): { url: string; secret: Buffer; clock: TestClock } {
  const dir = mkdtempSync(join(tmpdir(), "gh-owner-claim-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { url: `sqlite:${join(dir, "gatehouse.db")}`, secret: randomBytes(32), clock: testClock(Date.now()) };
}

/** One gateway instance on the shared store, running a Telegram bot (grammY, long polling) on its own local Bot API. */
async function startInstance(store: ReturnType<typeof sharedStore>, token = TOKEN): Promise<Instance> {
  const api = new LocalBotApi(token);
  const apiRoot = await api.listen();
  const gw = await testGateway({ clock: store.clock, storeUrl: store.url, secret: store.secret });
  const adapter = new TelegramAdapter({ token, apiRoot, mode: "polling", pollingTimeoutSeconds: 1 });
  const plugin = channelPlugin(adapter, { now: store.clock.now });
  await plugin.start(gw.ctx);
  cleanups.push(async () => {
    await plugin.stop();
    await api.close();
    await gw.close().catch(() => undefined);
  });
  return { api, gw, plugin };
}

/**
 * Another instance on the shared store whose Telegram messages come through the channel contract (the in-memory adapter
 * of the channel tests): `say` delivers a direct message and resolves with the reply.
 */
async function memoryInstance(store: ReturnType<typeof sharedStore>) {
  const gw = await testGateway({ clock: store.clock, storeUrl: store.url, secret: store.secret });
  const adapter = new InMemoryChatAdapter("telegram");
  const plugin = channelPlugin(adapter, { now: store.clock.now });
  await plugin.start(gw.ctx);
  cleanups.push(async () => {
    await plugin.stop();
    await gw.close().catch(() => undefined);
  });
  const say = async (userId: string, text: string): Promise<string> => {
    const before = adapter.textsTo(userId).length;
    await adapter.deliver(userId, text);
    await until(() => adapter.textsTo(userId).length > before, `a reply to ${userId}`, WAIT);
    return adapter.textsTo(userId)[before]!;
  };
  return { gw, adapter, plugin, say };
}

/** `userId` writes `text` in their private chat; resolves with the bot's next reply there. */
async function say(api: LocalBotApi, userId: number, text: string): Promise<string> {
  const before = api.textsTo(userId).length;
  api.push(api.message(userId, text, { firstName: `User${userId}` }));
  await until(() => api.textsTo(userId).length > before, `a reply to ${userId}`, WAIT);
  return api.textsTo(userId)[before]!;
}

/** Approve/Deny cards the bot delivered to `ownerId`. */
function cardsTo(api: LocalBotApi, ownerId: number) {
  return api.sentTo(ownerId).filter((call) => call.body.reply_markup !== undefined);
}

/** A stranger asks for access; resolves once their code reply came (the cards go out right after it). */
async function strangerAsks(api: LocalBotApi, strangerId: number): Promise<void> {
  expect(await say(api, strangerId, "hello, may I?")).toMatch(PAIR_CODE);
}

describe("owner-claim codes over Telegram", () => {
  it("the sender of the code becomes an owner, is told so and gets the cards; the code is then used up", async () => {
    const store = sharedStore();
    const { api, gw } = await startInstance(store);
    const claim = await createOwnerClaim(gw.ctx.pairing, "telegram", { now: store.clock.now });
    expect(claim.code).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    expect(claim.expiresAt).toBe(store.clock.now() + 10 * 60_000);

    // Sent just as printed (lower case is fine too).
    expect(await say(api, 900, claim.code.toLowerCase())).toMatch(CLAIMED);
    expect(await isStoreOwner(gw.ctx.pairing, "telegram", "900")).toBe(true);
    expect(await gw.ctx.isOwner("telegram", "900")).toBe(true);
    // Single use: nobody else gets in with it, not even with the command form.
    expect(await say(api, 901, `/owner ${claim.code}`)).toBe(REFUSED);
    expect(await isStoreOwner(gw.ctx.pairing, "telegram", "901")).toBe(false);

    // The new owner gets the card for a new stranger, and their press decides it.
    await strangerAsks(api, 42);
    await until(() => cardsTo(api, 900).length === 1, "the card to the new owner", WAIT);
    const card = cardsTo(api, 900)[0]!;
    const keyboard = (
      card.body.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }
    ).inline_keyboard;
    const approve = keyboard[0]![0]!;
    expect(approve.text).toBe("Approve");
    api.push(api.callbackQuery(900, approve.callback_data, { chatId: 900, messageId: card.messageId! }));
    await until(
      () => api.textsTo(42).some((t) => t.startsWith("Good news")),
      "the approval reaching the stranger",
      WAIT,
    );
    expect(await gw.stores.pairing.isPaired("42", "telegram")).toBe(true);

    // Audited as owner-claimed (with who), and the code is in no log line.
    const { events } = await gw.stores.pairing.audit({ type: "owner-claimed" });
    expect(events.map((e) => [e.channelType, e.channelId, e.actor])).toEqual([
      ["owner.telegram", "900", "telegram:900"],
    ]);
    const logs = gw.logs.join("\n");
    for (const form of [claim.code, claim.code.replace("-", ""), claim.code.toLowerCase()])
      expect(logs).not.toContain(form);
    // Store-kept owners are not paired senders: the pairing list does not show them, the owner list does.
    expect(await listStoreOwners(gw.ctx.pairing)).toEqual([
      { channelType: "telegram", userId: "900", label: "User900", claimedAt: store.clock.now() },
    ]);
  }, 60_000);

  it("wrong codes count toward the sender's guess limit; the locked-out guesser cannot use the right code, others can", async () => {
    const store = sharedStore();
    const { api, gw } = await startInstance(store);
    const claim = await createOwnerClaim(gw.ctx.pairing, "telegram");
    const wrong = () => {
      for (;;) {
        const code = formatCode(generateRawCode());
        if (code !== claim.code) return code;
      }
    };
    for (let i = 0; i < 5; i++) expect(await say(api, 66, `/owner ${wrong()}`)).toBe(REFUSED);
    expect(await say(api, 66, `/owner ${claim.code}`)).toBe(REFUSED);
    expect(await isStoreOwner(gw.ctx.pairing, "telegram", "66")).toBe(false);
    const lockouts = (await gw.stores.pairing.audit({ type: "locked-out" })).events;
    expect(lockouts.map((e) => [e.channelType, e.channelId])).toEqual([["owner.telegram", "66"]]);
    // The guesser's lockout is theirs alone: the code is still good for someone else.
    expect(await say(api, 67, claim.code)).toMatch(CLAIMED);
    // Malformed input is refused before the store is asked; `/owner` alone explains itself.
    expect(await say(api, 68, "/owner")).toMatch(/^Send \/owner followed by/);
    expect(await say(api, 68, "/owner not a code at all!")).toBe(REFUSED);
  }, 60_000);

  it("a code expires after 10 minutes", async () => {
    const store = sharedStore();
    const { api, gw } = await startInstance(store);
    const claim = await createOwnerClaim(gw.ctx.pairing, "telegram");
    store.clock.advance(10 * 60_000 + 1);
    expect(await say(api, 900, claim.code)).toBe(REFUSED);
    expect(await isStoreOwner(gw.ctx.pairing, "telegram", "900")).toBe(false);
    // 900 is a stranger like any other then: a bare code that is not a claim is not a way in.
    expect(await say(api, 900, "hi")).toMatch(PAIR_CODE);
  }, 60_000);

  it("in a group the code is not taken", async () => {
    const store = sharedStore();
    const { api, gw } = await startInstance(store);
    const claim = await createOwnerClaim(gw.ctx.pairing, "telegram");
    api.push(api.message(900, `/owner ${claim.code}`, { chatId: -100500, chatType: "group" }));
    await until(
      () => api.callsOf("sendMessage").some((c) => String(c.body.chat_id) === "-100500"),
      "the group's answer",
      WAIT,
    );
    expect(api.textsTo(-100500).join("\n")).not.toMatch(CLAIMED);
    expect(await isStoreOwner(gw.ctx.pairing, "telegram", "900")).toBe(false);
    expect(await say(api, 900, claim.code)).toMatch(CLAIMED);
  }, 60_000);

  it("two instances on one store agree: of two claimants racing, exactly one becomes owner, and a revoke holds on both", async () => {
    // A runs the Telegram bot (grammY, it holds the bot's polling lease); B is another instance on the same store whose
    // Telegram messages arrive through the channel contract (as a webhook would hand them over).
    const store = sharedStore();
    const a = await startInstance(store);
    const b = await memoryInstance(store);
    const claim = await createOwnerClaim(a.gw.ctx.pairing, "telegram");
    const [onA, onB] = await Promise.all([say(a.api, 900, claim.code), b.say("901", claim.code)]);
    expect([onA, onB].filter((r) => CLAIMED.test(r))).toHaveLength(1);
    expect([onA, onB].filter((r) => r === REFUSED)).toHaveLength(1);
    const [winner, loser] = CLAIMED.test(onA) ? ["900", "901"] : ["901", "900"];
    for (const gw of [a.gw, b.gw]) {
      expect(await gw.ctx.isOwner("telegram", winner)).toBe(true);
      expect(await gw.ctx.isOwner("telegram", loser)).toBe(false);
    }
    // Whoever won, on whichever instance, gets the cards of both.
    expect(await b.say("42", "hello, may I?")).toMatch(PAIR_CODE);
    await until(() => b.adapter.cards.some((c) => c.ownerId === winner), "the card on instance B", WAIT);
    await strangerAsks(a.api, 43);
    await until(() => cardsTo(a.api, Number(winner)).length === 1, "the card on instance A", WAIT);

    // Revoked through one instance: on the other the former owner is a stranger at their next message.
    expect(await revokeStoreOwner(a.gw.ctx.pairing, "telegram", winner, "cli:test")).toBe(true);
    expect(await b.say(winner, "am I still in?")).toMatch(PAIR_CODE);
    expect(await b.gw.ctx.isOwner("telegram", winner)).toBe(false);
  }, 60_000);

  it("a store-kept owner is refused, not admitted, while the store is down (fail closed)", async () => {
    const store = sharedStore();
    const { adapter, gw, say: sayB } = await memoryInstance(store);
    const claim = await createOwnerClaim(gw.ctx.pairing, "telegram");
    expect(await sayB("900", claim.code)).toMatch(CLAIMED);
    expect(await sayB("42", "hello, may I?")).toMatch(PAIR_CODE);
    await until(() => adapter.cards.some((c) => c.ownerId === "900"), "the card to the owner", WAIT);
    expect(await sayB("900", "hello")).toBe("echo: hello");
    await gw.stores.close();
    expect(await sayB("900", "hello again")).toMatch(/temporarily unavailable/);
    await expect(gw.ctx.isOwner("telegram", "900")).rejects.toThrow();
    // The owner's card press is refused too, with a clear answer, while nothing can say they are an owner.
    const answer = await adapter.press(adapter.cards[0]!.request.approveToken, "900");
    expect(answer.answers.map((x) => x.text).join("\n")).toMatch(/temporarily unavailable/i);
    expect(gw.logs.join("\n")).not.toContain(claim.code);
  }, 60_000);
});
