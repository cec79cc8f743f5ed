import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, it } from "vitest";
import { openRedisStores } from "../src/stores/redis/index.js";
import type { AuditEvent, AuditResync, Stores } from "../src/stores/types.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { deviceId, SECRET, startGateway, TestSocket, type StoreKind } from "./gateway-helpers.js";
import { until } from "./support/until.js";

const available = await requireRedis();

/** `count` audit events through the public API: a request and its denial, for `count / 2` senders. */
async function decisions(stores: Stores, tag: string, count: number): Promise<void> {
  for (let i = 0; i < count / 2; i++) {
    const code = await stores.pairing.generateCode("telegram", `${tag}-${i}`);
    assert.equal(await stores.pairing.deny("telegram", code), true);
  }
}

(available ? describe : describe.skip)("redis audit stream retention", () => {
  const secret = randomBytes(32);
  const prefixes: string[] = [];
  const redisUrl = new URL(REDIS_URL);
  const admin = createClient({ url: REDIS_URL });
  admin.on("error", () => {});

  const fresh = (): string => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    return prefix;
  };
  const streamInfo = async (prefix: string): Promise<{ length: number; added: number }> => {
    const info = (await admin.sendCommand(["XINFO", "STREAM", `${prefix}:audit`])) as unknown;
    const field = (name: string): number =>
      Number(
        Array.isArray(info)
          ? info[info.indexOf(name) + 1]
          : info instanceof Map
            ? info.get(name)
            : (info as Record<string, unknown>)[name],
      );
    return { length: field("length"), added: field("entries-added") };
  };

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.close();
    for (const prefix of prefixes) await deleteKeys(prefix);
  });

  it("refuses a retention it cannot read, naming the parameter, and opens nothing", async () => {
    const prefix = fresh();
    await assert.rejects(
      openRedisStores(`${REDIS_URL}?prefix=${prefix}&auditRetention=a-week`, { secret }),
      /auditRetention.*duration/,
    );
    await assert.rejects(
      openRedisStores(`${REDIS_URL}?prefix=${prefix}&auditMaxLength=-5`, { secret }),
      /auditMaxLength/,
    );
    await assert.rejects(
      openRedisStores(`${REDIS_URL}?prefix=${prefix}`, { secret, auditRetentionMs: -1 }),
      /auditRetentionMs/,
    );
    await assert.rejects(
      openRedisStores(`${REDIS_URL}?prefix=${prefix}&auditRetention=1d`, { secret, auditRetentionMs: 1000 }),
      /given twice and differently/,
    );
    assert.equal(await admin.exists(`${prefix}:secret-fingerprint`), 0, "nothing was written");
  });

  it("keeps about auditMaxLength events: a store opening with the setting trims the oldest", async () => {
    const prefix = fresh();
    const writer = await openRedisStores(`${REDIS_URL}?prefix=${prefix}&auditRetention=0`, { secret });
    try {
      await decisions(writer, "len", 300);
      assert.equal((await streamInfo(prefix)).length, 300, "retention 0 keeps everything");
      const trimming = await openRedisStores(`${REDIS_URL}?prefix=${prefix}&auditMaxLength=50`, { secret });
      await trimming.close();
      const { length } = await streamInfo(prefix);
      assert.ok(length >= 50 && length < 300, `trimmed to about 50 (whole stream nodes at a time), got ${length}`);
      const page = await writer.pairing.audit({ limit: 1000 });
      assert.equal(page.events.length, length);
      assert.equal(page.events.at(-1)?.channelId, "len-149", "the newest events stay");
    } finally {
      await writer.close();
    }
  });

  it("trims by age against the server's clock, whatever the store's own clock says", async () => {
    const prefix = fresh();
    const farFuture = (): number => Date.now() + 10 * 365 * 86_400_000;
    const writer = await openRedisStores(`${REDIS_URL}?prefix=${prefix}&auditRetention=0`, { secret, now: farFuture });
    try {
      await decisions(writer, "age", 250);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const kept = await openRedisStores(`${REDIS_URL}?prefix=${prefix}&auditRetention=1h`, { secret });
      await kept.close();
      assert.equal((await streamInfo(prefix)).length, 250, "an hour keeps events a moment old");
      const trimming = await openRedisStores(`${REDIS_URL}?prefix=${prefix}`, { secret, auditRetentionMs: 20 });
      await trimming.close();
      assert.ok((await streamInfo(prefix)).length < 250, "events older than 20 ms went");
    } finally {
      await writer.close();
    }
  });

  it("a reader that fell behind the trim point is told to resynchronise; a reader that kept up gets every event once, in order", async () => {
    const prefix = fresh();
    const url = (host: string): string => `redis://${host}/0?prefix=${prefix}&auditRetention=0`;
    const proxy = await TcpProxy.start(redisUrl.hostname, Number(redisUrl.port || 6379));
    const behind = await openRedisStores(url(`127.0.0.1:${proxy.port}`), { secret });
    const keptUp = await openRedisStores(url(redisUrl.host), { secret });
    const writer = await openRedisStores(url(redisUrl.host), { secret });
    try {
      const seenBehind: (AuditEvent | AuditResync)[] = [];
      const seenKeptUp: AuditEvent[] = [];
      const resyncsKeptUp: AuditResync[] = [];
      behind.pairing.subscribe(
        (event) => seenBehind.push(event),
        (resync) => seenBehind.push(resync),
      );
      keptUp.pairing.subscribe(
        (event) => seenKeptUp.push(event),
        (resync) => resyncsKeptUp.push(resync),
      );
      await behind.pairing.health();
      await keptUp.pairing.health();

      await decisions(writer, "before", 2);
      await until(
        () => seenBehind.length === 2 && seenKeptUp.length === 2,
        "the first two events on both readers",
        20_000,
      );

      await proxy.down(); // the first reader is cut off from Redis
      await decisions(writer, "while-away", 300);
      await until(() => seenKeptUp.length === 302, "every event on the reader that kept up", 20_000);
      const trimming = await openRedisStores(url(redisUrl.host), { secret, auditMaxLength: 50 });
      await trimming.close();
      const info = await streamInfo(prefix);
      assert.ok(info.length < 302, "the stream was trimmed");
      await proxy.up();

      const trimmed = info.added - info.length;
      const expected = 2 + 1 + info.length; // the two seen before, the resync, then what the stream still holds
      await until(() => seenBehind.length === expected, "the resync and the events still in the stream", 20_000);
      const resync = seenBehind[2] as AuditResync;
      assert.equal("missed" in resync, true, "the resync comes before the events after the gap");
      assert.equal(resync.missed, trimmed - 2, "it says how many events it missed");
      assert.equal(resync.after, (seenBehind[1] as AuditEvent).id);
      const streamIds = (await writer.pairing.audit({ limit: 1000 })).events.map((e) => e.id);
      assert.deepEqual(
        seenBehind.slice(3).map((e) => (e as AuditEvent).id),
        streamIds,
        "then every event left, in order",
      );

      // afterwards both readers follow as usual
      await decisions(writer, "after", 2);
      await until(
        () => seenBehind.length === expected + 2 && seenKeptUp.length === 304,
        "the next events on both",
        20_000,
      );
      assert.deepEqual(resyncsKeptUp, [], "the reader that kept up never resynchronises");
      const ids = seenKeptUp.map((e) => e.id);
      assert.equal(new Set(ids).size, 304, "each event once");
      assert.deepEqual(
        [...ids].sort((a, b) => {
          const [am, as] = a.split("-").map(Number) as [number, number];
          const [bm, bs] = b.split("-").map(Number) as [number, number];
          return am - bm || as - bs;
        }),
        ids,
        "in stream order",
      );
      assert.deepEqual(
        seenKeptUp.filter((e) => e.type === "requested").map((e) => e.channelId),
        [...["before-0"], ...Array.from({ length: 150 }, (_, i) => `while-away-${i}`), "after-0"],
      );
    } finally {
      await Promise.all([behind.close(), keptUp.close(), writer.close()]);
      await proxy.down();
    }
  });
});

(available ? describe : describe.skip)("a gateway whose store feed fell behind", () => {
  const prefix = uniquePrefix();
  const redisUrl = new URL(REDIS_URL);
  afterAll(async () => {
    await deleteKeys(prefix);
  });

  it("re-reads the store: a device revoked and a device approved while their events were trimmed unread are closed and let in", async () => {
    const proxy = await TcpProxy.start(redisUrl.hostname, Number(redisUrl.port || 6379));
    const storeUrl = (host: string): string => `redis://${host}/0?prefix=${prefix}&auditRetention=0`;
    const viaProxy: StoreKind = {
      name: "redis via proxy",
      make: () => ({ url: storeUrl(`127.0.0.1:${proxy.port}`), cleanup() {} }),
    };
    // heartbeats (which also re-check credentials) far off, so only the resync can close the socket in time
    const gw = await startGateway({ storeKind: viaProxy, websocket: { heartbeatMs: 600_000 } });
    const other = await openRedisStores(storeUrl(redisUrl.host), { secret: SECRET });
    const sockets: TestSocket[] = [];
    try {
      const device = deviceId("trimmed");
      await other.pairing.approve("webchat", await other.pairing.generateCode("webchat", device));
      const socket = await TestSocket.open(gw.wsUrl);
      sockets.push(socket);
      socket.send({ type: "connect", params: { deviceId: device } });
      await socket.nextOfType("hello");
      const waitingDevice = deviceId("waiting");
      const waiting = await TestSocket.open(gw.wsUrl);
      sockets.push(waiting);
      waiting.send({ type: "connect", params: { deviceId: waitingDevice } });
      const { code } = await waiting.nextOfType("pairing");

      await proxy.down();
      assert.equal(await other.pairing.revoke(device, "webchat"), true);
      assert.equal(await other.pairing.approve("webchat", code), true);
      await decisions(other, "noise", 300);
      const trimming = await openRedisStores(storeUrl(redisUrl.host), { secret: SECRET, auditMaxLength: 50 });
      await trimming.close();
      const decisionsLeft = (await other.pairing.audit({ limit: 1000 })).events.filter(
        (e) => e.channelType === "webchat",
      );
      assert.deepEqual(
        decisionsLeft,
        [],
        "the revoke and the approval were trimmed before the gateway could read them",
      );
      await proxy.up();

      const closed = await Promise.race([
        socket.closed,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000).unref()),
      ]);
      assert.equal(closed?.code, 4403, "the revoked device's socket is closed after the resync");
      assert.equal(
        (await waiting.nextOfType("hello", 20_000)).principal.userId,
        waitingDevice,
        "the approved device is let in",
      );
      assert.match(gw.logger.lines.join("\n"), /fell behind its retention and missed events.*"missed":\d+/);
    } finally {
      for (const socket of sockets) socket.close();
      await other.close();
      await gw.stop();
      await proxy.down();
    }
  });
});
