import assert from "node:assert/strict";
import { CODE_ALPHABET } from "../pairing/codes.js";
import {
  assertOnlyAlicePaired,
  errorName,
  HOSTILE_IDS,
  MALFORMED_CODES,
  type PairingCase,
  snapshot,
} from "./fixtures.js";
import type { LevelOption } from "./rules.js";
import type { SuiteRunner } from "./runner.js";

const DISPLAY_CODE = new RegExp(`^[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}$`);
const HOUR = 60 * 60_000;
const MINUTE = 60_000;

/**
 * The recommended pairing rules (docs/protocols.md, "The pairing rules"): what the built-in stores do beyond the required
 * contract. Registered only when the suite runs at level "all".
 */
export function describeRecommendedRules(check: PairingCase, options: SuiteRunner & LevelOption): void {
  if (options.level === "required") return;
  const { describe } = options;
  describe("recommended", () => {
    describe("codes", () => {
      check("code-format", "are 8 alphabet symbols shown as ABCD-EFGH", async (store) => {
        const codes = new Set<string>();
        for (let i = 0; i < 5; i++) codes.add(await store.generateCode("telegram", `user-${i}`));
        for (const code of codes) assert.match(code, DISPLAY_CODE);
        assert.equal(codes.size, 5, "five senders got five different codes");
      });

      check("invites", "default to channel type 'unknown' and an invite when no channel id is given", async (store) => {
        const code = await store.generateCode();
        assert.match(code, DISPLAY_CODE);
        const pending = await store.listPending("unknown");
        assert.equal(pending.length, 1);
        assert.equal(pending[0]?.kind, "invite");
      });

      check("code-format", "accept normalised input: lower case, spaces, dashes", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        const messy = `  ${code.toLowerCase().replace("-", " - ")} `;
        assert.equal(await store.approve("telegram", messy), true);
        assert.equal(await store.isPaired("alice", "telegram"), true);
      });

      check("malformed-input", "refuse malformed codes with false and change nothing", async (store) => {
        await store.generateCode("telegram", "alice");
        await store.generateCode("telegram");
        const before = await snapshot(store);
        for (const bad of MALFORMED_CODES) {
          assert.equal(
            await store.approve("telegram", bad as string),
            false,
            `code ${JSON.stringify(bad)?.slice(0, 40)}`,
          );
          assert.equal(await store.approve("telegram", bad as string, "mallory"), false);
        }
        assert.equal(await snapshot(store), before);
      });

      check(
        "input-errors",
        "refuse an invalid channel type in generateCode with an error naming it, and change nothing",
        async (store) => {
          const before = await snapshot(store);
          for (const bad of ["", "Tele Gram", "x".repeat(200), "a\u0000b"]) {
            await assert.rejects(async () => store.generateCode(bad, "alice"), /channelType/);
          }
          await assert.rejects(async () => store.generateCode("telegram", ""), /channelId/);
          assert.equal(await snapshot(store), before);
        },
      );
    });

    describe("requests (an unknown sender asked)", () => {
      check("expiry", "are listed with the code, sender and age", async (store, { clock }) => {
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
      });

      check("same-code", "give the same live sender the same code (no flood of requests)", async (store) => {
        const first = await store.generateCode("telegram", "alice");
        for (let i = 0; i < 10; i++) assert.equal(await store.generateCode("telegram", "alice"), first);
        assert.equal((await store.listPending()).length, 1);
      });

      check("owner-approve", "are approved by the owner (no user id) and pair exactly that sender", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        await store.generateCode("telegram", "bob");
        assert.equal(await store.approve("telegram", code), true);
        await assertOnlyAlicePaired(store);
      });

      check("guess-limits", "are invalidated after 5 wrong redemptions of the code", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        for (let i = 0; i < 5; i++) assert.equal(await store.approve("telegram", code, `guesser-${i}`), false);
        assert.equal(await store.approve("telegram", code), false);
        assert.equal(await store.isPaired("alice", "telegram"), false);
      });

      check("channel-type-bound", "are bound to their channel type", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        const before = await snapshot(store);
        assert.equal(await store.approve("discord", code), false);
        assert.equal(await snapshot(store), before);
        assert.equal(await store.isPaired("alice", "discord"), false);
      });

      check(
        "expiry",
        "expire after an hour: not listed, not approvable, and a new code follows",
        async (store, { clock }) => {
          const code = await store.generateCode("telegram", "alice");
          clock.advance(HOUR - 1000);
          assert.equal((await store.listPending()).length, 1);
          clock.advance(1000);
          assert.equal((await store.listPending()).length, 0);
          assert.equal(await store.approve("telegram", code), false);
          assert.equal(await store.isPaired("alice", "telegram"), false);
          const fresh = await store.generateCode("telegram", "alice");
          assert.notEqual(fresh, code);
        },
      );
    });

    describe("invites (the owner issued a bearer code)", () => {
      check("invites", "are listed masked, never with the code", async (store) => {
        const code = await store.generateCode("telegram");
        const [entry] = await store.listPending("telegram");
        assert.equal(entry?.kind, "invite");
        assert.notEqual(entry?.code, code);
        assert.ok(!JSON.stringify(entry).includes(code.replace("-", "")), "listing leaks the code");
        assert.ok(!JSON.stringify(entry).includes(code), "listing leaks the code");
      });

      check("invites", "are refused without a redeemer and then redeemed by exactly the redeemer", async (store) => {
        const code = await store.generateCode("telegram");
        assert.equal(await store.approve("telegram", code), false);
        assert.equal((await store.listPending("telegram")).length, 1);
        assert.equal(await store.approve("telegram", code, "carol", "Carol"), true);
        assert.equal(await store.isPaired("carol", "telegram"), true);
        assert.equal((await store.listPending()).length, 0);
        const [pairing] = await store.listPaired();
        assert.equal(pairing?.label, "Carol");
      });

      check("expiry", "expire after 10 minutes while requests live on", async (store, { clock }) => {
        const invite = await store.generateCode("telegram");
        const request = await store.generateCode("telegram", "alice");
        clock.advance(10 * MINUTE);
        assert.equal(await store.approve("telegram", invite, "carol"), false);
        assert.deepEqual(
          (await store.listPending()).map((p) => p.kind),
          ["request"],
        );
        assert.equal(await store.approve("telegram", request), true);
      });
    });

    describe("single use", () => {
      check("invites", "an invite redeems once; a request code approves once", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        assert.equal(await store.approve("telegram", code), true);
        assert.equal(await store.approve("telegram", code), false);
        const invite = await store.generateCode("telegram");
        assert.equal(await store.approve("telegram", invite, "carol"), true);
        assert.equal(await store.approve("telegram", invite, "dave"), false);
        assert.equal(await store.isPaired("dave", "telegram"), false);
      });

      check("invites", "100 concurrent redemptions of one invite: exactly one succeeds", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        const results = await Promise.all(Array.from({ length: 100 }, () => store.approve("telegram", code)));
        assert.equal(results.filter(Boolean).length, 1);
        const invite = await store.generateCode("telegram");
        const redeemed = await Promise.all(
          Array.from({ length: 100 }, (_, i) => store.approve("telegram", invite, `redeemer-${i}`)),
        );
        assert.equal(redeemed.filter(Boolean).length, 1);
        assert.equal((await store.listPaired()).length, 2);
      });
    });

    describe("caps", () => {
      check(
        "caps",
        "past the cap generateCode throws PairingLimitError; other types and live senders are unaffected",
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
      );
    });

    describe("guessing", () => {
      check(
        "guess-limits",
        "locks out one redeemer after repeated failures, never everyone else or the owner",
        async (store, { rules }) => {
          const invite = await store.generateCode("telegram");
          const request = await store.generateCode("telegram", "alice");
          for (let i = 0; i < rules.redeemFailureLimit; i++) {
            assert.equal(await store.approve("telegram", "ZZZZ-ZZZZ", "mallory"), false);
          }
          assert.equal(await store.approve("telegram", invite, "mallory"), false, "locked-out redeemer refused");
          assert.equal(await store.isPaired("mallory", "telegram"), false);
          assert.equal(await store.approve("telegram", invite, "carol"), true, "other redeemers are not locked out");
          assert.equal(await store.approve("telegram", request), true, "owner approvals are never locked out");
        },
      );

      check(
        "guess-limits",
        "lets a locked-out redeemer try again after the cooldown",
        async (store, { rules, clock }) => {
          for (let i = 0; i < rules.redeemFailureLimit; i++) await store.approve("telegram", "ZZZZ-ZZZZ", "mallory");
          clock.advance(rules.lockoutMs + 1);
          const invite = await store.generateCode("telegram");
          assert.equal(await store.approve("telegram", invite, "mallory"), true);
        },
      );

      check(
        "guess-limits",
        "counts consecutive failures: a successful redemption starts the count afresh",
        async (store, { rules }) => {
          // With a limit of 3: fail, fail, success, fail must not lock the redeemer out (NIST SP 800-63B).
          const fail = async (): Promise<void> =>
            assert.equal(await store.approve("telegram", "ZZZZ-ZZZZ", "dave"), false);
          const redeem = async (): Promise<boolean> =>
            store.approve("telegram", await store.generateCode("telegram"), "dave");
          for (let i = 0; i < rules.redeemFailureLimit - 1; i++) await fail();
          assert.equal(await redeem(), true);
          await fail();
          assert.equal(await redeem(), true, "locked out by failures from before a success");
          for (let i = 0; i < rules.redeemFailureLimit; i++) await fail();
          assert.equal(await redeem(), false, "consecutive failures still lock out");
        },
      );

      check(
        "guess-limits",
        "counts failures per channel type: a lockout on one type leaves another open",
        async (store, { rules }) => {
          for (let i = 0; i < rules.redeemFailureLimit; i++) await store.approve("telegram", "ZZZZ-ZZZZ", "mallory");
          const invite = await store.generateCode("discord");
          assert.equal(await store.approve("discord", invite, "mallory"), true);
        },
      );
    });

    describe("revoke", () => {
      check("revoke-wins", "a revoke before the approve of a pending sender cancels the request", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        await store.revoke("alice", "telegram");
        assert.equal(await store.approve("telegram", code), false);
        assert.equal(await store.isPaired("alice", "telegram"), false);
      });

      check("revoke-wins", "racing an approve of the same sender ends revoked", async (store) => {
        for (let round = 0; round < 10; round++) {
          const sender = `racer-${round}`;
          const code = await store.generateCode("telegram", sender);
          // Both calls are in flight at once (issued in either order); whichever the store serialises first, the sender
          // ends unpaired with nothing pending, and an approval that went through was the one revoked.
          const [approved, revoked] =
            round % 2 === 0
              ? await Promise.all([store.approve("telegram", code), store.revoke(sender, "telegram")])
              : await Promise.all([store.revoke(sender, "telegram"), store.approve("telegram", code)]).then(
                  ([r, a]) => [a, r],
                );
          assert.equal(await store.isPaired(sender, "telegram"), false, `round ${round}`);
          assert.equal(
            (await store.listPending("telegram")).some((p) => p.channelId === sender),
            false,
            `round ${round}`,
          );
          if (approved) assert.equal(revoked, true, `round ${round}: the approval was not the one revoked`);
        }
      });
    });

    describe("hostile input", () => {
      check(
        "malformed-input",
        "isPaired and revoke answer false for malformed ids and change nothing",
        async (store) => {
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
        },
      );

      check("malformed-input", "keeps ids with SQL, quotes and unicode exactly as given", async (store) => {
        const odd = "Robert'); DROP TABLE paired;-- 🚀";
        await store.approve("telegram", await store.generateCode("telegram", odd));
        assert.equal(await store.isPaired(odd, "telegram"), true);
        assert.equal(await store.isPaired("Robert", "telegram"), false);
        assert.equal((await store.listPaired())[0]?.channelId, odd);
      });
    });
  });
}
