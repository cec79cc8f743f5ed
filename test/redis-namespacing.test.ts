import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createClient } from "redis";
import { openStores } from "../src/stores/open.js";
import { createRedisStores, openRedisStores, type RedisClientLike } from "../src/stores/redis/index.js";
import { PrivateRedis } from "./redis-support.js";

/** A real client whose commands are recorded on their way to Redis. */
function recording(client: RedisClientLike): { client: RedisClientLike; commands: string[][] } {
  const commands: string[][] = [];
  const proxy = new Proxy(client, {
    get(target, property) {
      if (property === "sendCommand") {
        return (args: ReadonlyArray<string>) => {
          commands.push([...args]);
          return target.sendCommand(args);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { client: proxy, commands };
}

describe("redis store namespacing and key layout", () => {
  let server: PrivateRedis;
  const secret = randomBytes(32);

  beforeAll(async () => {
    server = await PrivateRedis.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("keeps gateways with different prefixes apart, and puts every key under the prefix", async () => {
    const a = await openRedisStores(`${server.url}?prefix=tenant-a`, { secret });
    const b = await openStores(`${server.url}?prefix=tenant-b`, { secret });
    try {
      const code = await a.pairing.generateCode("telegram", "alice", { firstMessage: "hi" });
      await a.pairing.generateCode("telegram");
      assert.equal(await b.pairing.approve("telegram", code), false, "b does not see a's request");
      assert.deepEqual(await b.pairing.listPending(), []);
      assert.equal(await a.pairing.approve("telegram", code), true);
      await a.pairing.approve("telegram", "ZZZZ-ZZZZ", "mallory");
      await a.sessions.bind("s1", { userId: "alice", role: "user" });
      assert.equal(await a.pairing.isPaired("alice", "telegram"), true);
      assert.equal(await b.pairing.isPaired("alice", "telegram"), false);
      assert.equal(await b.sessions.lookup("s1"), null);
      assert.deepEqual((await b.pairing.audit()).events, []);

      const admin = createClient({ url: server.url });
      await admin.connect();
      const keys = await admin.keys("*");
      await admin.close();
      assert.ok(keys.length > 0);
      // b only opened its namespace, which records the fingerprint of its secret and marks its (empty) pairings indexed.
      const opened = ["tenant-b:secret-fingerprint", "tenant-b:paired-index"];
      for (const key of keys)
        assert.ok(key.startsWith("tenant-a:") || opened.includes(key), `key outside the prefix: ${key}`);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("defaults to the gatehouse: prefix and takes keyPrefix as an option", async () => {
    const byDefault = await openRedisStores(server.url, { secret });
    const byOption = await openRedisStores(server.url, { secret, keyPrefix: "gatehouse" });
    const other = await openRedisStores(server.url, { secret, keyPrefix: "other:" });
    try {
      await byDefault.pairing.approve("discord", await byDefault.pairing.generateCode("discord", "bob"));
      assert.equal(
        await byOption.pairing.isPaired("bob", "discord"),
        true,
        "gatehouse and gatehouse: are one namespace",
      );
      assert.equal(await other.pairing.isPaired("bob", "discord"), false);
    } finally {
      await Promise.all([byDefault.close(), byOption.close(), other.close()]);
    }
  });

  it("takes the options every backend is opened with (the CLI passes dataDir and timeoutMs)", async () => {
    const stores = await openStores(`${server.url}?prefix=opts`, {
      secret,
      dataDir: "/nonexistent",
      schema: "ignored",
      poolSize: 3,
      timeoutMs: 3000,
      sessionIdleTtlMs: 60_000,
      maxPendingPerChannelType: 1,
    });
    try {
      await stores.pairing.generateCode("telegram", "alice");
      await assert.rejects(stores.pairing.generateCode("telegram", "bob"), { name: "PairingLimitError" });
      await stores.sessions.health();
    } finally {
      await stores.close();
    }
    await assert.rejects(createRedisStores({} as RedisClientLike), /node-redis client/);
  });

  it("refuses a bad or contradictory prefix, naming it, before connecting", async () => {
    await assert.rejects(openRedisStores(`${server.url}?prefix=a%20b`), /prefix/);
    await assert.rejects(openRedisStores(server.url, { keyPrefix: "" }), /keyPrefix/);
    await assert.rejects(openRedisStores(`${server.url}?prefix=one`, { keyPrefix: "two" }), /prefix/);
    await assert.rejects(openRedisStores("redis://[broken"), /URL/);
    await assert.rejects(openRedisStores(server.url, { timeoutMs: -1 }), /timeoutMs/);
  });

  it("answers isPaired with one command and lists without scanning the keyspace", async () => {
    const owned = createClient({ url: server.url });
    owned.on("error", () => {});
    await owned.connect();
    const { client, commands } = recording(owned);
    const stores = await createRedisStores(client, { secret, keyPrefix: `count-${randomBytes(4).toString("hex")}` });
    try {
      for (let i = 0; i < 3; i++) {
        await stores.pairing.approve("telegram", await stores.pairing.generateCode("telegram", `user-${i}`));
      }
      await stores.pairing.generateCode("telegram", "waiting");
      commands.length = 0;
      assert.equal(await stores.pairing.isPaired("user-1", "telegram"), true);
      assert.equal(commands.length, 1, `isPaired sent ${JSON.stringify(commands)}`);
      assert.equal(commands[0]?.[0], "HEXISTS");
      commands.length = 0;
      assert.equal((await stores.pairing.listPaired()).length, 3);
      assert.equal((await stores.pairing.listPending()).length, 1);
      await stores.pairing.audit();
      const sent = commands.map((c) => c[0]);
      assert.ok(!sent.includes("KEYS") && !sent.includes("SCAN"), `listing scanned the keyspace: ${sent.join(", ")}`);
    } finally {
      await stores.close();
    }
    assert.equal(owned.isOpen, true, "closing the stores leaves the caller's client open");
    assert.equal(await owned.ping(), "PONG");
    await owned.close();
  });
});
