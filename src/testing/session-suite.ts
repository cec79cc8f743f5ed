import assert from "node:assert/strict";
import type { Principal, SessionBindingProtocol } from "../protocols/types.js";
import { withStore } from "./fixtures.js";
import { type LevelOption, ruleCase, type StoreRuleId } from "./rules.js";
import type { StoreFactory, SuiteRunner } from "./runner.js";

export interface SessionSuiteOptions extends SuiteRunner, LevelOption {
  /** Check unbind and the idle TTL too (built-in stores). Default true. */
  extras?: boolean;
}

const alice: Principal = { userId: "alice", role: "user", scopes: ["chat"], profile: { name: "Alice", age: 30 } };

interface FullSessionStore extends SessionBindingProtocol {
  unbind(sessionId: string): Promise<boolean> | boolean;
}

/** The conformance suite every session binding store must pass. */
export function describeSessionBindingStore(
  name: string,
  factory: StoreFactory<SessionBindingProtocol>,
  options: SessionSuiteOptions,
): void {
  const { describe } = options;
  const run = (body: Parameters<typeof withStore<SessionBindingProtocol>>[1]) => () => withStore(factory, body);
  let rule: StoreRuleId = "session-binding";
  const it = (name: string, body: () => Promise<void>) => ruleCase(options, rule, name, body);

  describe(`${name}: session binding store conformance`, () => {
    it(
      "binds and looks up a principal; unknown sessions are null",
      run(async (store) => {
        await store.bind("s1", alice);
        assert.deepEqual(await store.lookup("s1"), alice);
        assert.equal(await store.lookup("nope"), null);
        assert.equal(await store.lookup(""), null);
      }),
    );

    it(
      "bind overwrites",
      run(async (store) => {
        await store.bind("s1", alice);
        await store.bind("s1", { userId: "bob", role: "admin" });
        assert.deepEqual(await store.lookup("s1"), { userId: "bob", role: "admin" });
      }),
    );

    it(
      "lookup returns a copy: mutating it or the bound object changes nothing stored",
      run(async (store) => {
        const principal = structuredClone(alice);
        await store.bind("s1", principal);
        principal.role = "owner";
        const first = await store.lookup("s1");
        assert.ok(first);
        first.role = "owner";
        (first.profile as { name: string }).name = "Mallory";
        assert.deepEqual(await store.lookup("s1"), alice);
      }),
    );

    it(
      "refuses a principal that is not JSON-serialisable with a clear error, keeping the old binding",
      run(async (store) => {
        await store.bind("s1", alice);
        const cyclic: Record<string, unknown> = { userId: "x", role: "user" };
        cyclic.self = cyclic;
        const bad: unknown[] = [
          { userId: "x", role: "user", callback: () => 1 },
          { userId: "x", role: "user", big: 10n },
          cyclic,
          { userId: "x", role: "user", when: new Date() },
          { userId: "x", role: "user", n: Number.NaN },
          null,
          "alice",
        ];
        for (const principal of bad) {
          await assert.rejects(async () => store.bind("s1", principal as Principal), /principal/);
        }
        assert.deepEqual(await store.lookup("s1"), alice);
      }),
    );

    it(
      "refuses an invalid session id with an error naming it",
      run(async (store) => {
        for (const id of ["", "x".repeat(10_000), "a\u0000b"]) {
          await assert.rejects(async () => store.bind(id, alice), /sessionId/);
        }
      }),
    );

    if (options.extras === false) return;
    rule = "session-extras";

    it(
      "unbind forgets a session and says whether it existed",
      run(async (store) => {
        const full = store as FullSessionStore;
        assert.equal(typeof full.unbind, "function", "store lacks unbind (pass extras: false to skip)");
        await store.bind("s1", alice);
        assert.equal(await full.unbind("s1"), true);
        assert.equal(await store.lookup("s1"), null);
        assert.equal(await full.unbind("s1"), false);
      }),
    );

    it(
      "forgets sessions idle past the TTL; each lookup keeps a session alive",
      run(async (store, { clock, idleTtlMs }) => {
        await store.bind("busy", alice);
        await store.bind("idle", alice);
        for (let i = 0; i < 3; i++) {
          clock.advance(idleTtlMs * 0.6);
          assert.deepEqual(await store.lookup("busy"), alice);
        }
        assert.equal(await store.lookup("idle"), null);
        clock.advance(idleTtlMs);
        assert.equal(await store.lookup("busy"), null);
      }),
    );

    it(
      "a session looked up often stays alive past its TTL; unused for a TTL it is gone, and not much before",
      run(async (store, { clock, idleTtlMs }) => {
        // Built-in stores write last-seen at most every min(60 s, TTL/10), so a session may end up to that much early,
        // never late: steps of TTL/50 fall both below and above that interval.
        await store.bind("s1", alice);
        for (let i = 0; i < 150; i++) {
          clock.advance(idleTtlMs / 50);
          assert.deepEqual(
            await store.lookup("s1"),
            alice,
            `lookup ${i + 1}, ${((i + 1) / 50).toFixed(2)} TTLs after bind`,
          );
        }
        clock.advance(idleTtlMs * 0.85);
        assert.deepEqual(await store.lookup("s1"), alice, "gone earlier than TTL minus the refresh interval");
        clock.advance(idleTtlMs / 50);
        assert.deepEqual(await store.lookup("s1"), alice);
        clock.advance(idleTtlMs);
        assert.equal(await store.lookup("s1"), null, "still there a whole TTL after its last lookup");
        await store.bind("s1", alice);
        assert.deepEqual(await store.lookup("s1"), alice, "bind after expiry starts a new session");
      }),
    );
  });
}
