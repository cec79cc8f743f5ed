import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { MemoryPairingStore, MemorySessionBindingStore } from "../src/stores/index.js";
import type { SenderRef } from "../src/stores/types.js";
import type { PairingProtocol } from "../src/protocols/types.js";
import { admit, authorizeOwnerAction, sessionKey } from "../src/core/admission.js";
import { STORE_DEADLINE_MS } from "../src/core/deadline.js";
import type { GatewayContext, GatewayPairingStore, PolicyOptions } from "../src/core/context.js";

const silent = { info() {}, warn() {}, error() {} };

function context(pairing: GatewayPairingStore, policy: Partial<PolicyOptions> = {}): GatewayContext {
  return {
    auth: { check: () => ({ success: false, metadata: {} }) },
    pairing,
    sessions: new MemorySessionBindingStore(),
    agent: (m) => m.text,
    policy: { unknownUserPolicy: "pair", allowedUsers: [], ownerUserIds: [], ...policy },
    events: new EventEmitter(),
    secret: Buffer.alloc(32, 7),
    logger: silent,
    isOwner: () => Promise.resolve(false),
  };
}

describe("admit", () => {
  it("admits owners and allowlisted senders by plain or channel-qualified id, without touching the store", async () => {
    const store = new MemoryPairingStore();
    const ctx = context(store, { ownerUserIds: ["42"], allowedUsers: ["discord:7"] });
    expect(await admit(ctx, { channelType: "telegram", senderId: "42" })).toEqual({
      decision: "admitted",
      reason: "owner",
    });
    expect(await admit(ctx, { channelType: "discord", senderId: "7" })).toEqual({
      decision: "admitted",
      reason: "allowlist",
    });
    // discord:7 is not allowlisted on telegram
    expect((await admit(ctx, { channelType: "telegram", senderId: "7" })).decision).toBe("pending");
  });

  it("never lets a plain owner id admit a webchat device (client-chosen id)", async () => {
    const ctx = context(new MemoryPairingStore(), { ownerUserIds: ["42"], unknownUserPolicy: "deny" });
    expect((await admit(ctx, { channelType: "webchat", senderId: "42" })).decision).toBe("denied");
  });

  it("creates one request per sender, tells new from repeat, and keeps the first message", async () => {
    const store = new MemoryPairingStore();
    const ctx = context(store);
    const first = await admit(ctx, {
      channelType: "telegram",
      senderId: "u1",
      userName: "Ann\u0007",
      text: "hello there",
    });
    expect(first).toMatchObject({ decision: "pending", isNew: true });
    if (first.decision !== "pending") throw new Error("expected pending");
    expect(first.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(first.expiresAt).toBeGreaterThan(Date.now());
    const again = await admit(ctx, { channelType: "telegram", senderId: "u1", text: "anyone?" });
    expect(again).toEqual({ ...first, isNew: false });
    const details = await store.pendingFor("u1", "telegram");
    expect(details).toMatchObject({ userName: "Ann", firstMessage: "hello there" });
    expect(await store.approve("telegram", first.code)).toBe(true);
    expect(await admit(ctx, { channelType: "telegram", senderId: "u1" })).toEqual({
      decision: "admitted",
      reason: "paired",
    });
  });

  it("works with a protocol-only store (two-argument generateCode, no pendingFor)", async () => {
    const inner = new MemoryPairingStore();
    const calls: unknown[][] = [];
    const plain: PairingProtocol = {
      generateCode: (...args: [string?, string?]) => {
        calls.push(args);
        return inner.generateCode(...args);
      },
      approve: (t, c, u, n) => inner.approve(t, c, u, n),
      isPaired: (id, t) => inner.isPaired(id, t),
      listPaired: () => inner.listPaired(),
      revoke: (id, t) => inner.revoke(id, t),
      listPending: (t) => inner.listPending(t),
    };
    const ctx = context(plain);
    const first = await admit(ctx, { channelType: "slack", senderId: "U1", text: "hi" });
    const second = await admit(ctx, { channelType: "slack", senderId: "U1", text: "hi" });
    expect(first).toMatchObject({ decision: "pending", isNew: true });
    expect(second).toMatchObject({ decision: "pending", isNew: false });
    expect(calls.every((args) => args.length === 2)).toBe(true);
  });

  it("applies allow and deny policies to unknown senders", async () => {
    expect(
      await admit(context(new MemoryPairingStore(), { unknownUserPolicy: "allow" }), {
        channelType: "x",
        senderId: "a",
      }),
    ).toEqual({
      decision: "admitted",
      reason: "policy-allow",
    });
    const store = new MemoryPairingStore();
    const denied = await admit(context(store, { unknownUserPolicy: "deny" }), { channelType: "x", senderId: "a" });
    expect(denied).toMatchObject({ decision: "denied", reason: "policy-deny" });
    expect(await store.listPending()).toEqual([]);
  });

  it("turns the pending cap and a deny cooldown into polite refusals", async () => {
    const store = new MemoryPairingStore({ maxPendingPerChannelType: 1 });
    const ctx = context(store);
    const first = await admit(ctx, { channelType: "telegram", senderId: "a" });
    expect(await admit(ctx, { channelType: "telegram", senderId: "b" })).toMatchObject({
      decision: "denied",
      reason: "limit",
    });
    if (first.decision !== "pending") throw new Error("expected pending");
    expect(await store.deny("telegram", first.code)).toBe(true);
    const cooled = await admit(ctx, { channelType: "telegram", senderId: "a" });
    expect(cooled).toMatchObject({ decision: "denied", reason: "cooldown" });
    if (cooled.decision === "denied") expect(cooled.message).toMatch(/minute/);
  });

  it("with allowNewRequest false, reports an existing request but creates no new one", async () => {
    const store = new MemoryPairingStore();
    const ctx = context(store);
    const first = await admit(ctx, { channelType: "webchat", senderId: "device-a" });
    const repeat = await admit(ctx, { channelType: "webchat", senderId: "device-a" }, { allowNewRequest: false });
    expect(repeat).toEqual({ ...first, isNew: false });
    const refused = await admit(ctx, { channelType: "webchat", senderId: "device-b" }, { allowNewRequest: false });
    expect(refused).toMatchObject({ decision: "denied", reason: "limit" });
    expect((await store.listPending()).map((p) => p.channelId)).toEqual(["device-a"]);
  });

  it("fails closed when the store throws or hangs past the deadline", async () => {
    const broken = new MemoryPairingStore();
    await broken.close();
    expect(await admit(context(broken), { channelType: "telegram", senderId: "a" })).toMatchObject({
      decision: "unavailable",
    });
    const hanging = new MemoryPairingStore();
    hanging.isPaired = () => new Promise<boolean>(() => {});
    hanging.isPairedMany = () => new Promise<boolean[]>(() => {});
    const result = await admit(
      context(hanging, { unknownUserPolicy: "allow" }),
      { channelType: "telegram", senderId: "a" },
      { deadlineMs: 50 },
    );
    expect(result.decision).toBe("unavailable");
    if (result.decision === "unavailable") expect(result.message).toMatch(/temporarily unavailable/);
  });

  it("asks the store once for the checks of one event-loop turn, sees a revoke at the next, and fails closed on a broken answer", async () => {
    const store = new MemoryPairingStore();
    for (const id of ["alice", "bob"])
      expect(await store.approve("telegram", await store.generateCode("telegram", id))).toBe(true);
    const asked: string[][] = [];
    const many = store.isPairedMany.bind(store);
    store.isPairedMany = (senders) => {
      // Each check also asks whether the sender is a store-kept owner (owner.telegram), in the same round.
      expect(senders.filter((s) => s.channelType === "owner.telegram").map((s) => s.channelId)).toEqual(ids(senders));
      asked.push(ids(senders));
      return many(senders);
    };
    const ctx = context(store, { unknownUserPolicy: "deny" });
    const check = (senderId: string) => admit(ctx, { channelType: "telegram", senderId });
    const decisions = async (ids: string[]) => (await Promise.all(ids.map(check))).map((r) => r.decision);

    expect(await decisions(["alice", "bob", "carol"])).toEqual(["admitted", "admitted", "denied"]);
    expect(asked).toEqual([["alice", "bob", "carol"]]);
    expect(await store.revoke("alice", "telegram")).toBe(true);
    expect(await decisions(["alice", "bob"])).toEqual(["denied", "admitted"]);
    expect(asked).toHaveLength(2);

    store.isPairedMany = async () => [true];
    expect(await decisions(["alice", "bob"])).toEqual(["unavailable", "unavailable"]);
    store.isPairedMany = () => {
      throw new Error("store fell over");
    };
    expect(await decisions(["bob"])).toEqual(["unavailable"]);
  });

  it("holds the checks that arrive during a store round and asks for them together when it ends", async () => {
    const store = new MemoryPairingStore();
    for (const id of ["a", "b", "c"])
      expect(await store.approve("telegram", await store.generateCode("telegram", id))).toBe(true);
    const many = store.isPairedMany.bind(store);
    const rounds: { ids: string[]; release: () => void }[] = [];
    store.isPairedMany = (senders) =>
      new Promise((resolve, reject) => {
        rounds.push({ ids: ids(senders), release: () => many(senders).then(resolve, reject) });
      });
    const ctx = context(store, { unknownUserPolicy: "deny" });
    const check = (senderId: string) => admit(ctx, { channelType: "telegram", senderId });
    const turn = () => new Promise((resolve) => setImmediate(resolve));

    const first = check("a");
    await turn();
    const later = [check("b"), check("c"), check("nobody")];
    await turn();
    expect(rounds.map((r) => r.ids)).toEqual([["a"]]);
    rounds[0]!.release();
    expect((await first).decision).toBe("admitted");
    await turn();
    expect(rounds.map((r) => r.ids)).toEqual([["a"], ["b", "c", "nobody"]]);
    rounds[1]!.release();
    expect((await Promise.all(later)).map((r) => r.decision)).toEqual(["admitted", "admitted", "denied"]);
  });

  it("a store round that never ends fails its checks closed at the deadline and does not hold up the next", async () => {
    const store = new MemoryPairingStore();
    expect(await store.approve("telegram", await store.generateCode("telegram", "a"))).toBe(true);
    const many = store.isPairedMany.bind(store);
    let calls = 0;
    store.isPairedMany = (senders) => (++calls === 1 ? new Promise<boolean[]>(() => {}) : many(senders));
    const ctx = context(store, { unknownUserPolicy: "deny" });
    const started = Date.now();
    // The admission's own deadline is longer than the store deadline, so the batch's deadline is what ends it.
    expect((await admit(ctx, { channelType: "telegram", senderId: "a" }, { deadlineMs: 10_000 })).decision).toBe(
      "unavailable",
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(STORE_DEADLINE_MS - 50);
    expect((await admit(ctx, { channelType: "telegram", senderId: "a" })).decision).toBe("admitted");
    expect(calls).toBe(2);
  });

  it("refuses malformed sender ids naming the field", async () => {
    const result = await admit(context(new MemoryPairingStore()), { channelType: "Bad Type", senderId: "a" });
    expect(result).toMatchObject({ decision: "denied", reason: "policy-deny" });
    if (result.decision === "denied") expect(result.message).toMatch(/^channelType /);
  });
});

/** The senders of one store round asked about as chat senders (each check also asks about the owner scope). */
function ids(senders: readonly SenderRef[]): string[] {
  return senders.filter((s) => s.channelType === "telegram").map((s) => s.channelId);
}

describe("authorizeOwnerAction", () => {
  const ctx = context(new MemoryPairingStore(), { ownerUserIds: ["telegram:1", "9"] });
  it("allows owner/admin principals and configured chat owners only", async () => {
    expect(await authorizeOwnerAction(ctx, { kind: "principal", principal: { userId: "u", role: "owner" } })).toEqual({
      allowed: true,
      actorId: "u",
    });
    expect(
      (await authorizeOwnerAction(ctx, { kind: "principal", principal: { userId: "u", role: "admin" } })).allowed,
    ).toBe(true);
    expect(
      (await authorizeOwnerAction(ctx, { kind: "principal", principal: { userId: "u", role: "user" } })).allowed,
    ).toBe(false);
    expect(await authorizeOwnerAction(ctx, { kind: "chat", channelType: "telegram", userId: "1" })).toEqual({
      allowed: true,
      actorId: "telegram:1",
    });
    expect((await authorizeOwnerAction(ctx, { kind: "chat", channelType: "discord", userId: "1" })).allowed).toBe(
      false,
    );
    expect((await authorizeOwnerAction(ctx, { kind: "chat", channelType: "discord", userId: "9" })).allowed).toBe(true);
    expect((await authorizeOwnerAction(ctx, { kind: "chat", channelType: "webchat", userId: "9" })).allowed).toBe(
      false,
    );
  });
});

describe("sessionKey", () => {
  it("gives each sender in each chat their own key", () => {
    expect(sessionKey("telegram", "c1", "u1")).toBe("telegram:c1:u1");
    expect(sessionKey("telegram", "c1", "u1")).not.toBe(sessionKey("telegram", "c1", "u2"));
  });
});
