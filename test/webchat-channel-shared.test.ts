/**
 * Webchat through the channel router on every shared store: a device waits on instance A, an owner decides through
 * instance B, and the decision reaches the device's sockets on A through the store's feed and A's webchat router
 * (approved: pairing.approved + hello, and chat works; revoked: its sockets on both instances close with 4403).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  connectWithToken,
  deviceId,
  OWNER_TOKEN,
  startGateway,
  TestSocket,
  type Frame,
  type TestGateway,
} from "./gateway-helpers.js";
import { testPrefixes } from "./mariadb-helpers.js";
import { testSchemas } from "./postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const running: TestGateway[] = [];
afterEach(async () => {
  for (const gateway of running.splice(0)) await gateway.stop();
});

const sqliteDir = mkdtempSync(join(tmpdir(), "gh-webchat-shared-"));
const redisPrefix = uniquePrefix();
const redisUp = await requireRedis();
const postgres = await testSchemas("webchat");
const mariadb = await testPrefixes("webchat");
afterAll(async () => {
  rmSync(sqliteDir, { recursive: true, force: true });
  if (redisUp) await deleteKeys(redisPrefix);
});

let counter = 0;
const BACKENDS: Array<{ name: string; available: boolean; url: () => string }> = [
  { name: "sqlite", available: true, url: () => `sqlite:${join(sqliteDir, `gatehouse-${++counter}.db`)}` },
  { name: "redis", available: redisUp, url: () => `${REDIS_URL}?prefix=${redisPrefix}-${++counter}:` },
  { name: "postgres", available: postgres.available, url: () => postgres.nextUrl() },
  { name: "mariadb", available: mariadb.available, url: () => mariadb.nextUrl() },
];

/** Two gateway instances on one store. */
async function twoInstances(url: string): Promise<[TestGateway, TestGateway]> {
  const storeKind = { name: "shared", make: () => ({ url, cleanup() {} }) };
  const a = await startGateway({ storeKind });
  running.push(a);
  const b = await startGateway({ storeKind });
  running.push(b);
  return [a, b];
}

async function connectDevice(wsUrl: string, device: string): Promise<{ socket: TestSocket; first: Frame }> {
  const socket = await TestSocket.open(wsUrl);
  socket.send({ type: "connect", params: { deviceId: device, name: "Browser" } });
  return { socket, first: await socket.next(() => true, 10_000) };
}

describe.each(BACKENDS)("webchat across two instances on $name", ({ available, url }) => {
  it.skipIf(!available)(
    "an approval made through B lets the device waiting on A in; a revoke through B closes it on both",
    async () => {
      const [a, b] = await twoInstances(url());
      const device = deviceId("shared");
      const waiting = await connectDevice(a.wsUrl, device);
      expect(waiting.first).toMatchObject({ type: "pairing" });

      const approved = await b.api("POST", "/api/pairing/approve", {
        token: OWNER_TOKEN,
        body: { channelType: "webchat", code: waiting.first.code },
      });
      expect(approved.status).toBe(200);
      expect(await waiting.socket.next((f) => f.type === "event", 15_000)).toEqual({
        type: "event",
        event: "pairing.approved",
      });
      const hello = await waiting.socket.nextOfType("hello", 15_000);
      expect(hello.principal).toEqual({ userId: device, role: "user" });
      const answer = await waiting.socket.request(1, "chat.send", { text: "hi" });
      expect(answer).toMatchObject({ type: "res", id: 1, ok: true });

      const onB = await connectDevice(b.wsUrl, device);
      expect(onB.first).toMatchObject({ type: "hello" });
      const owner = await connectWithToken(b.wsUrl, OWNER_TOKEN);
      const revoked = await owner.socket.request("r", "pairing.revoke", { channelType: "webchat", channelId: device });
      expect(revoked.payload).toEqual({ revoked: true });
      expect((await waiting.socket.closed).code).toBe(4403);
      expect((await onB.socket.closed).code).toBe(4403);
      owner.socket.close();
    },
  );
});
