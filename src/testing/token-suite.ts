import assert from "node:assert/strict";
import { FIRST_OWNER_TOKEN_ID, mintFirstOwnerToken, mintToken, tokenAuth } from "../auth/token.js";
import type { GatewayRequest } from "../protocols/types.js";
import type { ApiTokenRecord, TokenStore } from "../stores/types.js";
import type { SuiteRunner } from "./runner.js";

/** Two handles on ONE backing token store (two connections, instances or processes' worth); memory may return one twice. */
export type TokenStorePairFactory = () => Promise<[TokenStore, TokenStore]>;

const record = (id: string, hash: string, createdAt = 1): ApiTokenRecord => ({
  id,
  hash,
  role: "owner",
  userId: `user-${id}`,
  label: "",
  createdAt,
});

const bearer = (token: string): GatewayRequest => ({
  transport: "http",
  method: "GET",
  url: "/",
  headers: { authorization: `Bearer ${token}` },
  remoteAddress: "10.0.0.1",
  query: {},
});

/**
 * A duplicate insert must be refused with an error named `TokenExistsError` whose `field` says which key collided
 * (`src/auth/token-errors.ts`), never a generic failure: the first-start owner token is claimed by inserting a fixed id.
 */
const tokenExists =
  (field: "id" | "hash") =>
  (error: unknown): boolean => {
    const refusal = error as { name?: unknown; field?: unknown } | null;
    assert.equal(refusal?.name, "TokenExistsError", `expected a TokenExistsError, got ${String(error)}`);
    assert.equal(refusal?.field, field);
    return true;
  };

/** The conformance suite for API token stores (only hashes kept; shared by every instance on the same store). */
export function describeTokenStore(name: string, openPair: TokenStorePairFactory, runner: SuiteRunner): void {
  const { describe, it } = runner;
  describe(`${name}: token store conformance`, () => {
    it("inserts, finds by hash, lists oldest first, counts and deletes", async () => {
      const [store] = await openPair();
      await store.insert(record("b", "h2", 2));
      await store.insert(record("a", "h1", 1));
      assert.deepEqual(await store.findByHash("h2"), record("b", "h2", 2));
      assert.equal(await store.findByHash("nope"), null);
      assert.deepEqual(
        (await store.list()).map((r) => r.id),
        ["a", "b"],
      );
      assert.equal(await store.count(), 2);
      assert.equal(await store.delete("a"), true);
      assert.equal(await store.delete("a"), false);
      assert.equal(await store.findByHash("h1"), null);
      assert.equal(await store.count(), 1);
    });

    it("refuses a duplicate hash or id with a TokenExistsError naming the key, and keeps the first", async () => {
      const [store] = await openPair();
      await store.insert(record("a", "h1"));
      await assert.rejects(async () => store.insert({ ...record("b", "h1"), role: "admin" }), tokenExists("hash"));
      await assert.rejects(async () => store.insert(record("a", "h9")), tokenExists("id"));
      assert.deepEqual(await store.list(), [record("a", "h1")]);
      assert.equal(await store.findByHash("h9"), null);
    });

    it("of two handles inserting the same id at once, exactly one wins (the first-start owner token relies on it)", async () => {
      const [one, two] = await openPair();
      const results = await Promise.allSettled([one.insert(record("first", "h1")), two.insert(record("first", "h2"))]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      const refused = results.find((r) => r.status === "rejected");
      assert.ok(refused && tokenExists("id")(refused.reason));
      assert.equal(await two.count(), 1);
      const firstOwner = await Promise.all([mintFirstOwnerToken(one), mintFirstOwnerToken(two)]);
      assert.deepEqual(firstOwner, [null, null], "no first-start token once the store holds one");
    });

    it("mints the first-start owner token for exactly one of two handles racing on an empty store", async () => {
      const [one, two] = await openPair();
      const minted = (await Promise.all([mintFirstOwnerToken(one), mintFirstOwnerToken(two)])).filter(
        (m) => m !== null,
      );
      assert.equal(minted.length, 1);
      assert.deepEqual(
        (await one.list()).map((r) => [r.id, r.role, r.userId]),
        [[FIRST_OWNER_TOKEN_ID, "owner", "owner"]],
      );
      assert.equal((await tokenAuth(two).check(bearer(minted[0]?.token ?? ""))).role, "owner");
    });

    it("hands out copies: mutating a result changes nothing stored", async () => {
      const [store] = await openPair();
      await store.insert(record("a", "h1"));
      const found = await store.findByHash("h1");
      if (found) found.role = "admin";
      assert.equal((await store.findByHash("h1"))?.role, "owner");
    });

    it("a token minted through one handle is admitted and revoked through the other", async () => {
      const [writer, reader] = await openPair();
      const { token, id } = await mintToken(writer, { role: "admin", userId: "carol" });
      const auth = tokenAuth(reader);
      const admitted = await auth.check(bearer(token));
      assert.equal(admitted.success, true);
      assert.equal(admitted.userId, "carol");
      assert.equal(admitted.role, "admin");
      assert.equal((await auth.check(bearer(`${token}x`))).success, false);
      assert.equal(await writer.delete(id), true);
      assert.equal((await auth.check(bearer(token))).success, false);
    });
  });
}
