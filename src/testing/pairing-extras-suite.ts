import assert from "node:assert/strict";
import type { PairingProtocol } from "../protocols/types.js";
import type { AuditEvent, PairingStore } from "../stores/types.js";
import { errorName, HOSTILE_IDS, withStore } from "./fixtures.js";
import { type LevelOption, ruleCase } from "./rules.js";
import type { StoreFactory, SuiteRunner } from "./runner.js";

export interface ExtrasOptions extends SuiteRunner, LevelOption {
  /** Check the built-in extras too (deny, pendingFor, audit, subscribe, approve options). Default true. */
  extras?: boolean;
}

const EXTRA_MEMBERS = ["deny", "isPairedMany", "pendingFor", "audit", "subscribe"] as const;

function asFullStore(store: PairingProtocol): PairingStore {
  const record = store as unknown as Record<string, unknown>;
  const missing = EXTRA_MEMBERS.filter((name) => typeof record[name] !== "function");
  assert.deepEqual(
    missing,
    [],
    'store lacks the built-in extras (pass extras: false, or level: "required", to skip these checks)',
  );
  return store as PairingStore;
}

/** Waits until `predicate` holds for the collected events, or fails after `ms`. */
async function eventually(events: AuditEvent[], predicate: (all: AuditEvent[]) => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate(events)) {
    if (Date.now() > deadline)
      assert.fail(`expected audit events did not arrive; got ${events.map((e) => e.type).join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** deny, cooldowns, pendingFor, audit log, subscribe and approve options: the built-in stores' extras. */
export function describePairingExtras(factory: StoreFactory<PairingProtocol>, options: ExtrasOptions): void {
  if (options.extras === false) return;
  const { describe, it } = options;
  const run =
    (body: (store: PairingStore, ctx: Parameters<Parameters<typeof withStore>[1]>[1]) => Promise<void>) => () =>
      withStore(factory, (store, ctx) => body(asFullStore(store), ctx));
  const check = (name: string, body: () => Promise<void>) => ruleCase(options, "optional-capabilities", name, body);

  describe("built-in extras", () => {
    check(
      "deny is a recorded decision, never a pairing, and starts a cooldown for that sender",
      run(async (store, { rules, clock }) => {
        const code = await store.generateCode("telegram", "alice");
        assert.equal(await store.deny("telegram", "not-a-code"), false);
        assert.equal(await store.deny("discord", code), false);
        assert.equal(await store.deny("telegram", code), true);
        assert.equal(await store.deny("telegram", code), false);
        assert.equal(await store.isPaired("alice", "telegram"), false);
        assert.equal((await store.listPending()).length, 0);
        assert.equal(await store.approve("telegram", code), false);
        await assert.rejects(async () => store.generateCode("telegram", "alice"), { name: "PairingCooldownError" });
        assert.match(await store.generateCode("telegram", "bob"), /^.{4}-.{4}$/, "others may still ask");
        clock.advance(rules.denyCooldownMs);
        assert.notEqual(await store.generateCode("telegram", "alice"), code);
        const { events } = await store.audit({ type: "denied" });
        assert.equal(events.length, 1);
        assert.equal(events[0]?.channelId, "alice");
      }),
    );

    check(
      "isPairedMany answers every sender as isPaired does, in the order asked",
      run(async (store) => {
        assert.deepEqual(await store.isPairedMany([]), []);
        assert.equal(await store.approve("telegram", await store.generateCode("telegram", "alice")), true);
        assert.equal(await store.approve("telegram", await store.generateCode("telegram", "bob")), true);
        assert.equal(await store.revoke("bob", "telegram"), true);
        const senders = [
          { channelType: "telegram", channelId: "carol" },
          { channelType: "telegram", channelId: "alice" },
          { channelType: "discord", channelId: "alice" },
          { channelType: "telegram", channelId: "bob" },
          ...HOSTILE_IDS.map((channelId) => ({ channelType: "telegram", channelId: channelId as string })),
          { channelType: "NOT A TYPE", channelId: "alice" },
          { channelType: "telegram", channelId: "alice" },
        ];
        const expected = await Promise.all(senders.map((s) => store.isPaired(s.channelId, s.channelType)));
        assert.deepEqual(
          expected.map((paired, i) => (paired ? i : -1)).filter((i) => i >= 0),
          [1, senders.length - 1],
        );
        assert.deepEqual(await store.isPairedMany(senders), expected);
        // More senders than one statement or command takes at once (PostgreSQL sends at most 256 per statement).
        const crowd = Array.from({ length: 300 }, (_, i) => ({
          channelType: "telegram",
          channelId: i % 100 === 7 ? "alice" : `nobody-${i}`,
        }));
        const answers = await store.isPairedMany(crowd);
        assert.equal(answers.length, 300);
        assert.deepEqual(
          answers.map((paired, i) => (paired ? i : -1)).filter((i) => i >= 0),
          [7, 107, 207],
        );
      }),
    );

    check(
      "pendingFor returns the sender's request with its first message",
      run(async (store, { rules }) => {
        assert.equal(await store.pendingFor("alice", "telegram"), null);
        const code = await store.generateCode("telegram", "alice", { userName: "Alice", firstMessage: "hello there" });
        const pending = await store.pendingFor("alice", "telegram");
        assert.equal(pending?.code, code);
        assert.equal(pending?.firstMessage, "hello there");
        assert.equal(pending?.userName, "Alice");
        assert.equal(pending?.expiresAt, (pending?.createdAt ?? 0) + rules.requestTtlMs);
        assert.equal(await store.pendingFor("alice", "discord"), null);
      }),
    );

    check(
      "approve records who approved and hands the first message over in the audit event",
      run(async (store) => {
        const code = await store.generateCode("telegram", "alice", { userName: "Alice", firstMessage: "hi" });
        assert.equal(await store.approve("telegram", code, "", "", { approvedBy: "owner-1" }), true);
        assert.equal((await store.listPaired())[0]?.approvedBy, "owner-1");
        const { events } = await store.audit({ type: "approved" });
        assert.equal(events[0]?.actor, "owner-1");
        assert.equal(events[0]?.detail.firstMessage, "hi");
      }),
    );

    check(
      "an invite-only redemption refuses request codes, so nobody approves their own request",
      run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        assert.equal(await store.approve("telegram", code, "alice", "", { inviteOnly: true }), false);
        assert.equal(await store.isPaired("alice", "telegram"), false);
        const invite = await store.generateCode("telegram");
        assert.equal(await store.approve("telegram", invite, "bob", "", { inviteOnly: true }), true);
      }),
    );

    check(
      "the audit log records every decision, pages, filters and never holds a code",
      run(async (store, { clock }) => {
        const alice = await store.generateCode("telegram", "alice");
        const invite = await store.generateCode("telegram");
        await store.approve("telegram", alice);
        await store.approve("telegram", "ZZZZ-ZZZZ", "mallory");
        await store.revoke("alice", "telegram");
        await store.generateCode("discord", "bob");
        clock.advance(2 * 60 * 60_000);
        await store.listPending();
        const all = await store.audit({ limit: 1000 });
        const types = all.events.map((e) => e.type);
        for (const type of ["requested", "invite-created", "approved", "redeem-failed", "revoked", "expired"]) {
          assert.ok(types.includes(type as AuditEvent["type"]), `audit log lacks ${type}: ${types.join(", ")}`);
        }
        assert.equal(all.next, null);
        const text = JSON.stringify(all.events);
        for (const code of [alice, invite]) {
          assert.ok(!text.includes(code) && !text.includes(code.replace("-", "")), "audit log holds a code");
        }
        const first = await store.audit({ limit: 2 });
        assert.equal(first.events.length, 2);
        assert.notEqual(first.next, null);
        const second = await store.audit({ limit: 2, after: first.next ?? undefined });
        assert.deepEqual(
          second.events.map((e) => e.id),
          all.events.slice(2, 4).map((e) => e.id),
        );
        const discord = await store.audit({ channelType: "discord" });
        assert.ok(discord.events.length >= 1 && discord.events.every((e) => e.channelType === "discord"));
      }),
    );

    check(
      "an invite redeemed on an owner scope (owner.<channel>) is audited as owner-claimed, not as a pairing",
      run(async (store) => {
        const claim = await store.generateCode("owner.telegram");
        assert.equal(
          await store.approve("owner.telegram", claim, "alice", "", { inviteOnly: true, approvedBy: "telegram:alice" }),
          true,
        );
        assert.equal(
          await store.approve("owner.telegram", claim, "bob", "", { inviteOnly: true }),
          false,
          "single use",
        );
        assert.equal(await store.isPaired("alice", "owner.telegram"), true);
        assert.equal(
          await store.isPaired("alice", "telegram"),
          false,
          "an owner claim pairs nobody on the channel itself",
        );
        const { events } = await store.audit({ channelType: "owner.telegram" });
        assert.deepEqual(
          events
            .filter((e) => e.type === "owner-claimed" || e.type === "approved")
            .map((e) => [e.type, e.channelId, e.actor]),
          [["owner-claimed", "alice", "telegram:alice"]],
        );
      }),
    );

    check(
      "pages through more than ten events in order, each event once",
      run(async (store) => {
        for (let i = 0; i < 12; i++) await store.generateCode(`type-${i % 3}`, `sender-${i}`);
        const all = (await store.audit({ limit: 1000 })).events;
        assert.equal(all.length, 12);
        const paged: AuditEvent[] = [];
        let after: string | undefined;
        for (let page = 0; page < 10; page++) {
          const result = await store.audit({ limit: 5, after });
          paged.push(...result.events);
          if (result.next === null) break;
          after = result.next;
        }
        assert.deepEqual(
          paged.map((e) => e.id),
          all.map((e) => e.id),
        );
        assert.deepEqual(
          all.map((e) => e.channelId),
          Array.from({ length: 12 }, (_, i) => `sender-${i}`),
        );
      }),
    );

    check(
      "listPaired(channelType) lists that type's pairings only, in pairing order, through approve, revoke and restore",
      run(async (store, { clock }) => {
        const pair = async (channelType: string, channelId: string): Promise<void> => {
          assert.equal(await store.approve(channelType, await store.generateCode(channelType, channelId)), true);
        };
        await pair("telegram", "alice");
        await pair("owner.telegram", "alice");
        clock.advance(1);
        await pair("discord", "bob");
        await pair("telegram", "carol:1");
        await pair("telegram", "bob");
        const ofType = async (channelType: string) => (await store.listPaired(channelType)).map((p) => p.channelId);
        const filtered = async (channelType: string) =>
          (await store.listPaired()).filter((p) => p.channelType === channelType);
        assert.deepEqual(await ofType("telegram"), ["alice", "carol:1", "bob"]);
        assert.deepEqual(await store.listPaired("telegram"), await filtered("telegram"));
        assert.deepEqual(await store.listPaired("owner.telegram"), await filtered("owner.telegram"));
        assert.deepEqual(await ofType("tele"), [], "a prefix of a type is another type");
        assert.deepEqual(await ofType("slack"), []);
        assert.equal(await store.revoke("alice", "telegram"), true);
        assert.deepEqual(await ofType("telegram"), ["carol:1", "bob"]);
        assert.deepEqual(await ofType("owner.telegram"), ["alice"]);
        await pair("telegram", "alice");
        assert.deepEqual(await ofType("telegram"), ["carol:1", "bob", "alice"]);
        if (store.restore) {
          await store.restore({
            paired: [{ channelType: "owner.telegram", channelId: "dave", label: "Dave", pairedAt: 1 }],
            audit: [],
          });
          assert.deepEqual(await ofType("owner.telegram"), ["dave", "alice"]);
        }
      }),
    );

    check(
      "subscribe delivers decisions as they happen, until unsubscribed",
      run(async (store) => {
        const seen: AuditEvent[] = [];
        const unsubscribe = store.subscribe((event) => seen.push(event));
        try {
          const code = await store.generateCode("telegram", "alice", { firstMessage: "hi" });
          await store.approve("telegram", code);
          await eventually(seen, (all) => all.some((e) => e.type === "approved" && e.channelId === "alice"));
          const approved = seen.find((e) => e.type === "approved");
          assert.equal(approved?.detail.firstMessage, "hi");
        } finally {
          unsubscribe();
        }
        const count = seen.length;
        await store.generateCode("telegram", "bob");
        await new Promise((resolve) => setTimeout(resolve, 400));
        assert.equal(seen.length, count, "events after unsubscribe");
      }),
    );

    check(
      "throws PairingInputError for oversized names and messages, changing nothing",
      run(async (store) => {
        let caught: unknown;
        try {
          await store.generateCode("telegram", "alice", { firstMessage: "x".repeat(100_000) });
        } catch (error) {
          caught = error;
        }
        assert.equal(errorName(caught), "PairingInputError");
        assert.match(String((caught as Error).message), /firstMessage/);
        await assert.rejects(
          async () => store.generateCode("telegram", "alice", { userName: "n".repeat(1000) }),
          /userName/,
        );
        assert.equal((await store.listPending()).length, 0);
      }),
    );
  });
}
