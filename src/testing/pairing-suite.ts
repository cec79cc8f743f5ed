import assert from "node:assert/strict";
import type { PairingProtocol } from "../protocols/types.js";
import { CODE_ALPHABET } from "../pairing/codes.js";
import { errorName, HOSTILE_IDS, MALFORMED_CODES, withStore } from "./fixtures.js";
import { describePairingExtras, type ExtrasOptions } from "./pairing-extras-suite.js";
import { describeCrossProcess } from "./cross-process-suite.js";
import type { StoreFactory } from "./runner.js";

export interface PairingSuiteOptions extends ExtrasOptions {
  /**
   * For stores another process can open with openStores(url): a fresh URL per call. Enables the cross-process checks
   * (two processes approving different codes, many processes racing for one code).
   */
  sharedUrl?: () => string | Promise<string>;
}

const DISPLAY_CODE = new RegExp(`^[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}$`);
const HOUR = 60 * 60_000;
const MINUTE = 60_000;

/** A snapshot of everything observable, to prove that a refused call changed nothing. */
async function snapshot(store: PairingProtocol): Promise<string> {
  const pending = (await store.listPending()).map(({ ageSeconds: _age, ...rest }) => rest);
  return JSON.stringify({ pending, paired: await store.listPaired() });
}

/** The conformance suite every pairing store must pass (DESIGN.md "Pairing semantics"). */
export function describePairingStore(
  name: string,
  factory: StoreFactory<PairingProtocol>,
  options: PairingSuiteOptions,
): void {
  const { describe, it } = options;
  const run = (body: Parameters<typeof withStore<PairingProtocol>>[1]) => () => withStore(factory, body);

  describe(`${name}: pairing store conformance`, () => {
    describe("codes", () => {
      it("are 8 alphabet symbols shown as ABCD-EFGH", run(async (store) => {
        const codes = new Set<string>();
        for (let i = 0; i < 5; i++) codes.add(await store.generateCode("telegram", `user-${i}`));
        for (const code of codes) assert.match(code, DISPLAY_CODE);
        assert.equal(codes.size, 5, "five senders got five different codes");
      }));

      it("default to channel type 'unknown' and an invite when no channel id is given", run(async (store) => {
        const code = await store.generateCode();
        assert.match(code, DISPLAY_CODE);
        const pending = await store.listPending("unknown");
        assert.equal(pending.length, 1);
        assert.equal(pending[0]?.kind, "invite");
      }));

      it("accept normalised input: lower case, spaces, dashes", run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        const messy = `  ${code.toLowerCase().replace("-", " - ")} `;
        assert.equal(await store.approve("telegram", messy), true);
        assert.equal(await store.isPaired("alice", "telegram"), true);
      }));

      it("refuse malformed codes with false and change nothing", run(async (store) => {
        await store.generateCode("telegram", "alice");
        await store.generateCode("telegram");
        const before = await snapshot(store);
        for (const bad of MALFORMED_CODES) {
          assert.equal(await store.approve("telegram", bad as string), false, `code ${JSON.stringify(bad)?.slice(0, 40)}`);
          assert.equal(await store.approve("telegram", bad as string, "mallory"), false);
        }
        assert.equal(await snapshot(store), before);
      }));

      it("refuse an invalid channel type in generateCode with an error naming it, and change nothing", run(async (store) => {
        const before = await snapshot(store);
        for (const bad of ["", "Tele Gram", "x".repeat(200), "a\u0000b"]) {
          await assert.rejects(async () => store.generateCode(bad, "alice"), /channelType/);
        }
        await assert.rejects(async () => store.generateCode("telegram", ""), /channelId/);
        assert.equal(await snapshot(store), before);
      }));
    });

    describe("requests (an unknown sender asked)", () => {
      it("are listed with the code, sender and age", run(async (store, { clock }) => {
        const code = await store.generateCode("telegram", "alice");
        clock.advance(30_000);
        const [entry, ...rest] = await store.listPending("telegram");
        assert.equal(rest.length, 0);
        assert.equal(entry?.code, code);
        assert.equal(entry?.kind, "request");
        assert.equal(entry?.channelId, "alice");
        assert.equal(entry?.channelType, "telegram");
        assert.equal(entry?.ageSeconds, 30);
        assert.equal(typeof entry?.createdAt, "number");
      }));

      it("give the same live sender the same code (no flood of requests)", run(async (store) => {
        const first = await store.generateCode("telegram", "alice");
        for (let i = 0; i < 10; i++) assert.equal(await store.generateCode("telegram", "alice"), first);
        assert.equal((await store.listPending()).length, 1);
      }));

      it("are approved by the owner (no user id) and pair exactly that sender", run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        await store.generateCode("telegram", "bob");
        assert.equal(await store.approve("telegram", code), true);
        assert.equal(await store.isPaired("alice", "telegram"), true);
        assert.equal(await store.isPaired("bob", "telegram"), false);
        const paired = await store.listPaired();
        assert.equal(paired.length, 1);
        assert.equal(paired[0]?.channelId, "alice");
        assert.equal(paired[0]?.channelType, "telegram");
        assert.equal(typeof paired[0]?.pairedAt, "number");
        assert.equal(typeof paired[0]?.label, "string");
        assert.deepEqual((await store.listPending()).map((p) => p.channelId), ["bob"]);
      }));

      it("refuse an approve whose user id names someone else, leaving the request pending", run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        assert.equal(await store.approve("telegram", code, "mallory"), false);
        assert.equal(await store.isPaired("mallory", "telegram"), false);
        assert.equal(await store.isPaired("alice", "telegram"), false);
        assert.equal((await store.listPending("telegram")).length, 1);
        assert.equal(await store.approve("telegram", code, "alice", "Alice"), true);
        assert.equal(await store.isPaired("alice", "telegram"), true);
      }));

      it("are invalidated after 5 wrong redemptions of the code", run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        for (let i = 0; i < 5; i++) assert.equal(await store.approve("telegram", code, `guesser-${i}`), false);
        assert.equal(await store.approve("telegram", code), false);
        assert.equal(await store.isPaired("alice", "telegram"), false);
      }));

      it("are bound to their channel type", run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        const before = await snapshot(store);
        assert.equal(await store.approve("discord", code), false);
        assert.equal(await snapshot(store), before);
        assert.equal(await store.isPaired("alice", "discord"), false);
      }));

      it("expire after an hour: not listed, not approvable, and a new code follows", run(async (store, { clock }) => {
        const code = await store.generateCode("telegram", "alice");
        clock.advance(HOUR - 1000);
        assert.equal((await store.listPending()).length, 1);
        clock.advance(1000);
        assert.equal((await store.listPending()).length, 0);
        assert.equal(await store.approve("telegram", code), false);
        assert.equal(await store.isPaired("alice", "telegram"), false);
        const fresh = await store.generateCode("telegram", "alice");
        assert.notEqual(fresh, code);
      }));
    });

    describe("invites (the owner issued a bearer code)", () => {
      it("are listed masked, never with the code", run(async (store) => {
        const code = await store.generateCode("telegram");
        const [entry] = await store.listPending("telegram");
        assert.equal(entry?.kind, "invite");
        assert.notEqual(entry?.code, code);
        assert.ok(!JSON.stringify(entry).includes(code.replace("-", "")), "listing leaks the code");
        assert.ok(!JSON.stringify(entry).includes(code), "listing leaks the code");
      }));

      it("are refused without a redeemer and then redeemed by exactly the redeemer", run(async (store) => {
        const code = await store.generateCode("telegram");
        assert.equal(await store.approve("telegram", code), false);
        assert.equal((await store.listPending("telegram")).length, 1);
        assert.equal(await store.approve("telegram", code, "carol", "Carol"), true);
        assert.equal(await store.isPaired("carol", "telegram"), true);
        assert.equal((await store.listPending()).length, 0);
        const [pairing] = await store.listPaired();
        assert.equal(pairing?.label, "Carol");
      }));

      it("expire after 10 minutes while requests live on", run(async (store, { clock }) => {
        const invite = await store.generateCode("telegram");
        const request = await store.generateCode("telegram", "alice");
        clock.advance(10 * MINUTE);
        assert.equal(await store.approve("telegram", invite, "carol"), false);
        assert.deepEqual((await store.listPending()).map((p) => p.kind), ["request"]);
        assert.equal(await store.approve("telegram", request), true);
      }));
    });

    describe("single use", () => {
      it("a code approves once", run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        assert.equal(await store.approve("telegram", code), true);
        assert.equal(await store.approve("telegram", code), false);
        const invite = await store.generateCode("telegram");
        assert.equal(await store.approve("telegram", invite, "carol"), true);
        assert.equal(await store.approve("telegram", invite, "dave"), false);
        assert.equal(await store.isPaired("dave", "telegram"), false);
      }));

      it("100 concurrent approvals of one code: exactly one succeeds", run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        const results = await Promise.all(Array.from({ length: 100 }, () => store.approve("telegram", code)));
        assert.equal(results.filter(Boolean).length, 1);
        const invite = await store.generateCode("telegram");
        const redeemed = await Promise.all(
          Array.from({ length: 100 }, (_, i) => store.approve("telegram", invite, `redeemer-${i}`)),
        );
        assert.equal(redeemed.filter(Boolean).length, 1);
        assert.equal((await store.listPaired()).length, 2);
      }));
    });

    describe("caps", () => {
      it("past the cap generateCode throws PairingLimitError; other types and live senders are unaffected", run(
        async (store, { rules, clock }) => {
          const first = await store.generateCode("telegram", "sender-0");
          for (let i = 1; i < rules.maxPendingPerChannelType; i++) await store.generateCode("telegram", `sender-${i}`);
          const before = await snapshot(store);
          let caught: unknown;
          try {
            await store.generateCode("telegram", "one-too-many");
          } catch (error) {
            caught = error;
          }
          assert.equal(errorName(caught), "PairingLimitError");
          assert.match(String((caught as Error).message), /telegram/);
          await assert.rejects(async () => store.generateCode("telegram"), { name: "PairingLimitError" });
          assert.equal(await snapshot(store), before);
          assert.equal(await store.generateCode("telegram", "sender-0"), first, "a live sender still gets its code");
          assert.match(await store.generateCode("discord", "someone"), DISPLAY_CODE);
          clock.advance(HOUR);
          assert.match(await store.generateCode("telegram", "one-too-many"), DISPLAY_CODE, "expiry frees the cap");
        },
      ));
    });

    describe("guessing", () => {
      it("locks out one redeemer after repeated failures, never everyone else or the owner", run(async (store, { rules }) => {
        const invite = await store.generateCode("telegram");
        const request = await store.generateCode("telegram", "alice");
        for (let i = 0; i < rules.redeemFailureLimit; i++) {
          assert.equal(await store.approve("telegram", "ZZZZ-ZZZZ", "mallory"), false);
        }
        assert.equal(await store.approve("telegram", invite, "mallory"), false, "locked-out redeemer refused");
        assert.equal(await store.isPaired("mallory", "telegram"), false);
        assert.equal(await store.approve("telegram", invite, "carol"), true, "other redeemers are not locked out");
        assert.equal(await store.approve("telegram", request), true, "owner approvals are never locked out");
      }));

      it("lets a locked-out redeemer try again after the cooldown", run(async (store, { rules, clock }) => {
        for (let i = 0; i < rules.redeemFailureLimit; i++) await store.approve("telegram", "ZZZZ-ZZZZ", "mallory");
        clock.advance(rules.lockoutMs + 1);
        const invite = await store.generateCode("telegram");
        assert.equal(await store.approve("telegram", invite, "mallory"), true);
      }));

      it("counts failures per channel type: a lockout on one type leaves another open", run(async (store, { rules }) => {
        for (let i = 0; i < rules.redeemFailureLimit; i++) await store.approve("telegram", "ZZZZ-ZZZZ", "mallory");
        const invite = await store.generateCode("discord");
        assert.equal(await store.approve("discord", invite, "mallory"), true);
      }));
    });

    describe("revoke", () => {
      it("unpairs, answers whether anything was revoked, and is idempotent", run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        await store.approve("telegram", code);
        assert.equal(await store.revoke("alice", "discord"), false);
        assert.equal(await store.isPaired("alice", "telegram"), true);
        assert.equal(await store.revoke("alice", "telegram"), true);
        assert.equal(await store.isPaired("alice", "telegram"), false);
        assert.equal(await store.revoke("alice", "telegram"), false);
        assert.equal((await store.listPaired()).length, 0);
      }));

      it("a revoke before the approve of a pending sender cancels the request", run(async (store) => {
        const code = await store.generateCode("telegram", "alice");
        await store.revoke("alice", "telegram");
        assert.equal(await store.approve("telegram", code), false);
        assert.equal(await store.isPaired("alice", "telegram"), false);
      }));

      it("racing an approve of the same sender ends revoked", run(async (store) => {
        for (let round = 0; round < 10; round++) {
          const sender = `racer-${round}`;
          const code = await store.generateCode("telegram", sender);
          // Both calls are in flight at once (issued in either order); whichever the store serialises first, the sender
          // ends unpaired with nothing pending, and an approval that went through was the one revoked.
          const [approved, revoked] =
            round % 2 === 0
              ? await Promise.all([store.approve("telegram", code), store.revoke(sender, "telegram")])
              : await Promise.all([store.revoke(sender, "telegram"), store.approve("telegram", code)]).then(([r, a]) => [a, r]);
          assert.equal(await store.isPaired(sender, "telegram"), false, `round ${round}`);
          assert.equal((await store.listPending("telegram")).some((p) => p.channelId === sender), false, `round ${round}`);
          if (approved) assert.equal(revoked, true, `round ${round}: the approval was not the one revoked`);
        }
      }));
    });

    describe("hostile input", () => {
      it("isPaired and revoke answer false for malformed ids and change nothing", run(async (store) => {
        await store.approve("telegram", await store.generateCode("telegram", "alice"));
        const before = await snapshot(store);
        for (const bad of HOSTILE_IDS) {
          assert.equal(await store.isPaired(bad as string, "telegram"), false);
          assert.equal(await store.isPaired("alice", bad as string), false);
          assert.equal(await store.revoke(bad as string, "telegram"), false);
          assert.equal(await store.revoke("alice", bad as string), false);
        }
        assert.equal(await store.isPaired("' OR 1=1 --", "telegram"), false);
        assert.equal(await snapshot(store), before);
      }));

      it("keeps ids with SQL, quotes and unicode exactly as given", run(async (store) => {
        const odd = "Robert'); DROP TABLE paired;-- 🚀";
        await store.approve("telegram", await store.generateCode("telegram", odd));
        assert.equal(await store.isPaired(odd, "telegram"), true);
        assert.equal(await store.isPaired("Robert", "telegram"), false);
        assert.equal((await store.listPaired())[0]?.channelId, odd);
      }));
    });

    describePairingExtras(factory, options);
    if (options.sharedUrl) describeCrossProcess(options.sharedUrl, options);
  });
}
