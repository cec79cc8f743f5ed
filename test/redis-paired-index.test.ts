/**
 * Redis keeps a set of channel ids per channel type beside the `paired` hash, so listPaired(type) (every owner card
 * lists the owners of one channel) reads one type's pairings, not all. Tables written before the sets existed get
 * them at the next open, and listing is right before that too.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, it } from "vitest";
import { openRedisStores } from "../src/stores/redis/index.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const available = await requireRedis();
const run = uniquePrefix();

(available ? describe : describe.skip)("redis listPaired(channelType): a set per channel type", () => {
  const admin = createClient({ url: REDIS_URL });
  const secret = randomBytes(32);

  beforeAll(async () => {
    admin.on("error", () => {});
    await admin.connect();
  });
  afterAll(async () => {
    await admin.close();
    await deleteKeys(`${run}-`);
  });

  async function pair(stores: Awaited<ReturnType<typeof openRedisStores>>, type: string, id: string): Promise<void> {
    assert.equal(await stores.pairing.approve(type, await stores.pairing.generateCode(type, id)), true);
  }

  it("approve and revoke keep the type's set; the listing reads only that set", async () => {
    const prefix = `${run}-kept`;
    const stores = await openRedisStores(`${REDIS_URL}?prefix=${prefix}`, { secret });
    try {
      await pair(stores, "telegram", "alice");
      await pair(stores, "owner.telegram", "alice");
      await pair(stores, "telegram", "bob:1");
      assert.equal(await admin.get(`${prefix}:paired-index`), "1", "a new prefix is indexed from the start");
      assert.deepEqual((await admin.sMembers(`${prefix}:paired:type:telegram`)).sort(), ["alice", "bob:1"]);
      assert.deepEqual(await admin.sMembers(`${prefix}:paired:type:owner.telegram`), ["alice"]);
      await stores.pairing.revoke("alice", "owner.telegram");
      assert.equal(await admin.exists(`${prefix}:paired:type:owner.telegram`), 0);
      // A pairing only the hash holds is not listed: the set is what is read.
      await admin.hSet(`${prefix}:paired`, "telegram:ghost", JSON.stringify({ channelId: "ghost" }));
      assert.deepEqual(
        (await stores.pairing.listPaired("telegram")).map((p) => p.channelId),
        ["alice", "bob:1"],
      );
    } finally {
      await stores.close();
    }
  });

  it("pairings written before the sets existed are listed by reading the hash, and indexed at the next open", async () => {
    const prefix = `${run}-old`;
    const first = await openRedisStores(`${REDIS_URL}?prefix=${prefix}`, { secret });
    try {
      await first.pairing.restore?.({ paired: Array.from({ length: 1200 }, (_, i) => pairing(i)), audit: [] });
      await pair(first, "owner.telegram", "carol");
      // What an older gatehouse left: the hash only.
      const sets = await admin.keys(`${prefix}:paired:type:*`);
      await admin.del([...sets, `${prefix}:paired-index`]);
      const owners = await first.pairing.listPaired("owner.telegram");
      assert.deepEqual(
        owners.map((p) => p.channelId),
        ["carol"],
      );
      assert.equal((await first.pairing.listPaired("telegram")).length, 600);
    } finally {
      await first.close();
    }
    const second = await openRedisStores(`${REDIS_URL}?prefix=${prefix}`, { secret });
    try {
      assert.equal(await admin.get(`${prefix}:paired-index`), "1");
      assert.equal(await admin.sCard(`${prefix}:paired:type:telegram`), 600);
      assert.equal(await admin.sCard(`${prefix}:paired:type:discord`), 600);
      assert.deepEqual(
        (await second.pairing.listPaired("owner.telegram")).map((p) => p.channelId),
        ["carol"],
      );
      const all = await second.pairing.listPaired();
      assert.deepEqual(
        await second.pairing.listPaired("discord"),
        all.filter((p) => p.channelType === "discord"),
      );
    } finally {
      await second.close();
    }
  });
});

function pairing(i: number) {
  const channelType = i % 2 === 0 ? "telegram" : "discord";
  return { channelType, channelId: `user:${i}`, label: `User ${i}`, pairedAt: 1_000 + i, approvedBy: "owner" };
}
