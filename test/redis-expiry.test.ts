import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createClient } from "redis";
import { openRedisStores } from "../src/stores/redis/index.js";
import { NATIVE_TTL_GRACE_MS } from "../src/stores/redis/pairing.js";
import { DEFAULT_PAIRING_RULES } from "../src/stores/types.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const available = await requireRedis();
const run = uniquePrefix();
let next = 0;
const HOUR = 60 * 60_000;

(available ? describe : describe.skip)(
  "redis store expiry: the store's clock decides, native TTLs only clean up",
  () => {
    const admin = createClient({ url: REDIS_URL });

    beforeAll(async () => {
      admin.on("error", () => {});
      await admin.connect();
    });
    afterAll(async () => {
      await admin.close();
      await deleteKeys(`${run}-`);
    });

    async function open(start: number) {
      let now = start;
      const prefix = `${run}-${next++}`;
      const stores = await openRedisStores(`${REDIS_URL}?prefix=${prefix}`, {
        secret: randomBytes(32),
        now: () => now,
      });
      return { stores, prefix: `${prefix}:`, advance: (ms: number) => (now += ms) };
    }

    for (const [name, start] of [
      ["far past", Date.UTC(1990, 0, 1)],
      ["far future", Date.UTC(2999, 0, 1)],
    ] as const) {
      it(`works with a clock in the ${name}: native TTLs are relative, so nothing vanishes early or lives for ever`, async () => {
        const { stores, prefix, advance } = await open(start);
        try {
          const code = await stores.pairing.generateCode("telegram", "alice");
          await stores.sessions.bind("s1", { userId: "alice", role: "user" });
          const pendingKeys = await admin.keys(`${prefix}pending:*`);
          const entryKey = pendingKeys.find((k) => /pending:[0-9a-f]{64}$/.test(k));
          assert.ok(entryKey, `no pending entry key among ${pendingKeys.join(", ")}`);
          const entryTtl = await admin.pTTL(entryKey);
          assert.ok(entryTtl > DEFAULT_PAIRING_RULES.requestTtlMs, `pending entry TTL ${entryTtl}`);
          assert.ok(entryTtl <= DEFAULT_PAIRING_RULES.requestTtlMs + NATIVE_TTL_GRACE_MS);
          assert.ok((await admin.pTTL(`${prefix}session:s1`)) > 0, "sessions carry a native TTL");
          assert.equal((await stores.pairing.listPending()).length, 1);
          assert.equal(await stores.pairing.approve("telegram", code), true);
          assert.equal(await admin.pTTL(`${prefix}paired`), -1, "pairings never expire");
          advance(10 * 365 * 24 * HOUR);
          assert.equal(await stores.pairing.isPaired("alice", "telegram"), true);
          assert.equal(await stores.sessions.lookup("s1"), null, "idle by the store's clock");
        } finally {
          await stores.close();
        }
      });
    }

    it("an entry whose keys Redis already dropped by native TTL is still reported expired, once", async () => {
      const { stores, prefix, advance } = await open(Date.UTC(2030, 0, 1));
      try {
        await stores.pairing.generateCode("telegram", "carol:1");
        // what the native TTL does after the grace period: the entry and the sender's index key disappear
        const dropped = [
          ...(await admin.keys(`${prefix}pending:*`)).filter((k) => /pending:[0-9a-f]{64}$/.test(k)),
          ...(await admin.keys(`${prefix}request:*`)),
        ];
        assert.equal(dropped.length, 2);
        await admin.del(dropped);
        advance(2 * HOUR);
        assert.deepEqual(await stores.pairing.listPending(), []);
        const expired = (await stores.pairing.audit({ type: "expired" })).events;
        assert.equal(expired.length, 1);
        assert.equal(expired[0]?.channelId, "carol:1");
        assert.equal(expired[0]?.kind, "request");
        assert.notEqual(await stores.pairing.generateCode("telegram", "carol:1"), "", "the sender may ask again");
      } finally {
        await stores.close();
      }
    });
  },
);
