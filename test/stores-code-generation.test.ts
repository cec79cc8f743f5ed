import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { openStores, type OpenStoresOptions } from "../src/stores/open.js";
import { MAX_CODE_ATTEMPTS } from "../src/stores/shared.js";
import { testPrefixes } from "./mariadb-helpers.js";
import { testSchemas } from "./postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const redisUp = await requireRedis();
const run = uniquePrefix();
let nextPrefix = 0;
const { available: postgresUp, nextUrl: postgresUrl } = await testSchemas("codegen");
const { available: mariadbUp, nextUrl: mariadbUrl } = await testPrefixes("c");
const dir = mkdtempSync(join(tmpdir(), "gh-codegen-"));
let files = 0;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (redisUp) await deleteKeys(`${run}-`);
});

const backends = [
  { name: "memory", up: true, network: false, url: () => "memory:" },
  { name: "sqlite", up: true, network: false, url: () => `sqlite:${join(dir, `store-${++files}.db`)}` },
  { name: "redis", up: redisUp, network: true, url: () => `${REDIS_URL}?prefix=${run}-${nextPrefix++}` },
  { name: "postgres", up: postgresUp, network: true, url: postgresUrl },
  { name: "mariadb", up: mariadbUp, network: true, url: mariadbUrl },
];

/** Blocks the event loop (the way a stuck entropy source would), so the store's deadline passes meanwhile. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

for (const backend of backends) {
  describe.runIf(backend.up)(`${backend.name}: code generation with a broken random source`, () => {
    it(`gives up after ${MAX_CODE_ATTEMPTS} colliding codes with a clear error, creating nothing`, async () => {
      let draws = 0;
      const stuck = (): string => {
        draws += 1;
        return "ABCDEFGH";
      };
      const stores = await openStores(backend.url(), { secret: randomBytes(32), drawCode: stuck });
      try {
        assert.equal(await stores.pairing.generateCode("telegram", "alice"), "ABCD-EFGH");
        draws = 0;
        await assert.rejects(stores.pairing.generateCode("telegram", "bob"), (error: Error) => {
          assert.equal(error.name, "CodeGenerationError");
          assert.match(error.message, /random source/);
          return true;
        });
        assert.equal(draws, MAX_CODE_ATTEMPTS, "every attempt drew one code, and then it stopped");
        assert.deepEqual(
          (await stores.pairing.listPending()).map((p) => p.channelId),
          ["alice"],
        );
        assert.equal(await stores.pairing.pendingFor("bob", "telegram"), null);
      } finally {
        await stores.close();
      }
    }, 20_000);

    if (backend.network)
      it("after the deadline no retry runs on: the request the caller was told failed never appears", async () => {
        const timeoutMs = 300;
        let draws = 0;
        // The first two draws collide with the code already pending; the retry's draw takes past the deadline and is fresh.
        const slow = (): string => {
          draws += 1;
          if (draws === 3) blockFor(timeoutMs * 2);
          return draws <= 2 ? "ABCDEFGH" : "JKLMNPQR";
        };
        const options: OpenStoresOptions = { secret: randomBytes(32), drawCode: slow, timeoutMs };
        const stores = await openStores(backend.url(), options);
        try {
          assert.equal(await stores.pairing.generateCode("telegram", "alice"), "ABCD-EFGH");
          await assert.rejects(stores.pairing.generateCode("telegram", "bob"), { name: "StoreUnavailableError" });
          await new Promise((resolve) => setTimeout(resolve, timeoutMs * 3));
          assert.equal(
            await stores.pairing.pendingFor("bob", "telegram"),
            null,
            "a request was created after the caller was told it failed",
          );
          assert.deepEqual(
            (await stores.pairing.listPending()).map((p) => p.channelId),
            ["alice"],
          );
          assert.deepEqual(
            (await stores.pairing.audit({ type: "requested" })).events.map((e) => e.channelId),
            ["alice"],
          );
        } finally {
          await stores.close();
        }
      }, 20_000);
  });
}
