import assert from "node:assert/strict";
import { BOUNDED_CODE } from "../pairing/codes.js";
import type { PairingProtocol } from "../protocols/types.js";
import { describeCrossProcess } from "./cross-process-suite.js";
import { assertOnlyAlicePaired, pairingCases } from "./fixtures.js";
import { describePairingExtras, type ExtrasOptions } from "./pairing-extras-suite.js";
import { describeRecommendedRules } from "./pairing-recommended-suite.js";
import type { LevelOption } from "./rules.js";
import type { StoreFactory } from "./runner.js";

export interface PairingSuiteOptions extends ExtrasOptions, LevelOption {
  /**
   * For stores another process can open with openStores(url): a fresh URL per call. Enables the cross-process checks
   * (two processes approving different codes, many processes racing for one code).
   */
  sharedUrl?: () => string | Promise<string>;
}

/**
 * The conformance suite for pairing stores (docs/protocols.md, "PairingProtocol"). Each case is titled `[rule] …` and a
 * failure names the rule and its section. `level: "required"` runs only what the gateway needs to be correct and safe;
 * the default, "all", adds the recommended rules and (unless `extras: false`) the built-in stores' optional methods.
 */
export function describePairingStore(
  name: string,
  factory: StoreFactory<PairingProtocol>,
  options: PairingSuiteOptions,
): void {
  const { describe } = options;
  const check = pairingCases(factory, options);

  describe(`${name}: pairing store conformance`, () => {
    describe("required", () => {
      check(
        "code-bound",
        "a code is a short string a sender can type back, and each sender gets their own",
        async (store) => {
          const codes = new Set<string>();
          for (let i = 0; i < 5; i++) {
            const code = await store.generateCode("telegram", `user-${i}`);
            assert.equal(typeof code, "string");
            assert.match(code, BOUNDED_CODE, "4-64 letters and digits, with dashes or spaces between them");
            codes.add(code);
          }
          assert.equal(codes.size, 5, "five senders got five different codes");
        },
      );

      check("approve-requester", "approve with the requester's id pairs exactly that sender", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        await store.generateCode("telegram", "bob");
        assert.equal(await store.isPaired("alice", "telegram"), false, "paired before any approval");
        assert.equal(await store.approve("telegram", code, "alice", "Alice"), true);
        await assertOnlyAlicePaired(store);
      });

      check(
        "approve-someone-else",
        "an approve whose user id names someone else is refused, leaving the request pending",
        async (store) => {
          const code = await store.generateCode("telegram", "alice");
          assert.equal(await store.approve("telegram", code, "mallory"), false);
          assert.equal(await store.isPaired("mallory", "telegram"), false);
          assert.equal(await store.isPaired("alice", "telegram"), false);
          assert.equal((await store.listPending("telegram")).length, 1);
          assert.equal(await store.approve("telegram", code, "alice", "Alice"), true);
          assert.equal(await store.isPaired("alice", "telegram"), true);
        },
      );

      check("unknown-code", "codes the store never issued approve nothing", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        for (const unknown of [
          "ZZZZ-ZZZZ",
          "ZZZZZZZZ",
          "00000000",
          "not a code",
          code.includes("Q") ? "WWWW-WWWW" : "QQQQ-QQQQ",
        ]) {
          assert.equal(await store.approve("telegram", unknown, "alice"), false, `code ${unknown}`);
        }
        assert.equal(await store.isPaired("alice", "telegram"), false);
        assert.equal((await store.listPaired()).length, 0);
        assert.equal((await store.listPending("telegram")).length, 1, "the real request is still pending");
      });

      check("single-use", "a code approves once, also when 100 approvals race for it", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        assert.equal(await store.approve("telegram", code, "alice"), true);
        assert.equal(await store.approve("telegram", code, "alice"), false, "approved twice");
        const raced = await store.generateCode("telegram", "bob");
        const results = await Promise.all(Array.from({ length: 100 }, () => store.approve("telegram", raced, "bob")));
        assert.equal(results.filter(Boolean).length, 1, "exactly one of 100 concurrent approvals wins");
        assert.equal((await store.listPaired()).length, 2);
      });

      check("revoke", "revoke unpairs, answers whether anything was revoked, and is idempotent", async (store) => {
        const code = await store.generateCode("telegram", "alice");
        assert.equal(await store.approve("telegram", code, "alice"), true);
        assert.equal(await store.revoke("alice", "discord"), false);
        assert.equal(await store.isPaired("alice", "telegram"), true);
        assert.equal(await store.revoke("alice", "telegram"), true);
        assert.equal(await store.isPaired("alice", "telegram"), false);
        assert.equal(await store.revoke("alice", "telegram"), false);
        assert.equal((await store.listPaired()).length, 0);
      });

      check(
        "list-pending",
        "listPending shows live requests with the code the sender saw, by channel type",
        async (store) => {
          const alice = await store.generateCode("telegram", "alice");
          const bob = await store.generateCode("discord", "bob");
          const all = await store.listPending();
          assert.equal(all.length, 2);
          const mine = all.find((p) => p.channelId === "alice");
          assert.equal(mine?.code, alice);
          assert.equal(mine?.channelType, "telegram");
          assert.equal(mine?.kind, "request");
          assert.equal(typeof mine?.createdAt, "number");
          assert.deepEqual(
            (await store.listPending("discord")).map((p) => [p.code, p.channelId]),
            [[bob, "bob"]],
          );
        },
      );
    });

    describeRecommendedRules(check, options);
    describePairingExtras(factory, options);
    if (options.sharedUrl) describeCrossProcess(options.sharedUrl, options);
  });
}
