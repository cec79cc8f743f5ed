import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { openStores } from "../src/stores/open.js";
import { SUITE_RULES } from "../src/testing/runner.js";
import { runWorker } from "../src/testing/spawn-worker.js";
import { testPrefixes } from "./mariadb-helpers.js";
import { testSchemas } from "./postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const redisUp = await requireRedis();
const run = uniquePrefix();
let nextPrefix = 0;
const { available: postgresUp, nextUrl: postgresUrl } = await testSchemas("secret");
const { available: mariadbUp, nextUrl: mariadbUrl } = await testPrefixes("k");
const dir = mkdtempSync(join(tmpdir(), "gh-store-secret-"));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (redisUp) await deleteKeys(`${run}-`);
});

const MISMATCH = /first opened with another gateway secret/;

/** A second process opening the store with `secret` and approving `code`: its error, or its answer. */
async function approveElsewhere(url: string, secret: Buffer, code: string): Promise<string | boolean> {
  try {
    const [approved] = await runWorker({
      url,
      secret: secret.toString("base64"),
      rules: SUITE_RULES,
      startAt: 0,
      approvals: [{ channelType: "telegram", code }],
    });
    return approved ?? false;
  } catch (error) {
    return (error as Error).message;
  }
}

const shared = [
  { name: "redis", up: redisUp, url: () => `${REDIS_URL}?prefix=${run}-${nextPrefix++}` },
  { name: "postgres", up: postgresUp, url: postgresUrl },
  { name: "mariadb", up: mariadbUp, url: mariadbUrl },
];

for (const backend of shared) {
  describe.runIf(backend.up)(`${backend.name}: one gateway secret for every instance`, () => {
    it("refuses to open without a secret instead of hashing codes with a random per-process key", async () => {
      const saved = process.env.GATEHOUSE_SECRET;
      delete process.env.GATEHOUSE_SECRET;
      try {
        await assert.rejects(openStores(backend.url()), /needs the gateway secret shared by every instance/);
      } finally {
        if (saved !== undefined) process.env.GATEHOUSE_SECRET = saved;
      }
    });

    it("a second process with another secret is refused, naming the secret to restore; the same secret works", async () => {
      const url = backend.url();
      const secret = randomBytes(32);
      const first = await openStores(url, { secret, secretSource: "GATEHOUSE_SECRET" });
      try {
        const code = await first.pairing.generateCode("telegram", "alice");
        const refused = await approveElsewhere(url, randomBytes(32), code);
        assert.match(String(refused), MISMATCH);
        await assert.rejects(
          openStores(url, { secret: randomBytes(32), secretSource: "GATEHOUSE_SECRET" }),
          (error: Error) => {
            assert.equal(error.name, "SecretMismatchError");
            assert.match(error.message, /restore that secret \(GATEHOUSE_SECRET\)/);
            return true;
          },
        );
        assert.equal((await first.pairing.listPending()).length, 1, "the refused opens changed nothing");
        assert.equal(await approveElsewhere(url, secret, code), true);
        assert.equal(await first.pairing.isPaired("alice", "telegram"), true);
      } finally {
        await first.close();
      }
    }, 30_000);
  });
}

describe("sqlite: the secret file and the database belong together", () => {
  it("a deleted secret file with an existing database stops the open, naming the file; restoring it works", async () => {
    const dataDir = join(dir, "data");
    const url = `sqlite:${join(dataDir, "gatehouse.db")}`;
    const saved = process.env.GATEHOUSE_SECRET;
    delete process.env.GATEHOUSE_SECRET;
    try {
      const first = await openStores(url, { dataDir });
      const code = await first.pairing.generateCode("telegram", "alice");
      await first.close();
      const secretFile = join(dataDir, "secret");
      const original = readFileSync(secretFile);
      unlinkSync(secretFile);
      await assert.rejects(openStores(url, { dataDir }), (error: Error) => {
        assert.match(error.message, MISMATCH);
        assert.ok(error.message.includes(secretFile), `the message names ${secretFile}: ${error.message}`);
        return true;
      });
      assert.ok(existsSync(join(dataDir, "gatehouse.db")), "the database is left in place");
      writeFileSync(secretFile, original, { mode: 0o600 });
      const restored = await openStores(url, { dataDir });
      try {
        assert.equal(await restored.pairing.approve("telegram", code), true, "the pending code survived");
      } finally {
        await restored.close();
      }
    } finally {
      if (saved !== undefined) process.env.GATEHOUSE_SECRET = saved;
    }
  });

  it("a read-only check (doctor) reports a mismatch but never binds a new database to its secret", async () => {
    const url = `sqlite:${join(dir, "verify.db")}`;
    const checked = await openStores(url, { secret: randomBytes(32), secretCheck: "verify" });
    await checked.close();
    const secret = randomBytes(32);
    const real = await openStores(url, { secret });
    await real.close();
    await assert.rejects(openStores(url, { secret: randomBytes(32), secretCheck: "verify" }), MISMATCH);
  });
});
