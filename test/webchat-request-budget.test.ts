/**
 * Issue 12 item 2: the per-address budget of new webchat pairing requests is reserved atomically in the store before
 * the request is created, so parallel connects (on one instance or spread over several) cannot all see it unspent;
 * and sockets that have not signed in yet are capped per address and in all.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createGateway } from "../src/gateway/index.js";
import type { WebSocketOptions } from "../src/gateway/ws-hub.js";
import {
  captureLogger,
  connectWithToken,
  deviceId,
  OWNER_TOKEN,
  SECRET,
  startGateway,
  TestSocket,
  type Frame,
} from "./gateway-helpers.js";
import { postgresAvailable, schemaNames } from "./postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const PARALLEL = 18;
const BUDGET = 5;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A token-less webchat connect from `localAddress`; resolves with the first answer (pairing, hello or error). */
async function webchatConnect(wsUrl: string, localAddress = "127.0.0.1"): Promise<Frame> {
  const socket = await TestSocket.open(wsUrl, { localAddress });
  cleanups.push(() => socket.close());
  socket.send({ type: "connect", params: { deviceId: deviceId("budget") } });
  return socket.next((f) => f.type === "pairing" || f.type === "hello" || f.type === "error", 10_000);
}

/**
 * `count` connects at once, spread over the given WebSocket URLs in turn: every socket is opened first, then all the
 * connect frames are sent in one go, as an attacker racing the budget would. The codes they got.
 */
async function parallelCodes(wsUrls: string[], count: number): Promise<{ codes: string[]; refusals: Frame[] }> {
  const sockets = await Promise.all(
    Array.from({ length: count }, (_, i) => TestSocket.open(wsUrls[i % wsUrls.length]!)),
  );
  for (const socket of sockets) cleanups.push(() => socket.close());
  for (const socket of sockets) socket.send({ type: "connect", params: { deviceId: deviceId("race") } });
  const answers = await Promise.all(
    sockets.map((s) => s.next((f) => f.type === "pairing" || f.type === "hello" || f.type === "error", 10_000)),
  );
  return {
    codes: answers.filter((f) => f.type === "pairing").map((f) => f.code as string),
    refusals: answers.filter((f) => f.type === "error"),
  };
}

function storeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gh-budget-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "gatehouse.db");
}

describe("the per-address budget of new webchat pairing requests", () => {
  for (const kind of ["memory", "sqlite"] as const) {
    it(`${kind}: ${PARALLEL} parallel connects from one address get at most ${BUDGET} codes; another address still gets one`, async () => {
      const gw = await startGateway({ store: kind === "memory" ? "memory:" : `sqlite:${storeDir()}` });
      cleanups.push(() => gw.stop());
      const { codes, refusals } = await parallelCodes([gw.wsUrl], PARALLEL);
      expect(codes.length).toBeGreaterThan(0);
      expect(codes.length).toBeLessThanOrEqual(BUDGET);
      expect(new Set(codes).size).toBe(codes.length);
      expect(refusals.length).toBe(PARALLEL - codes.length);
      for (const refusal of refusals)
        expect(refusal.error.message).toMatch(/Too many pairing requests from your network/);
      const pending = await gw.api("GET", "/api/pairing/pending?channelType=webchat", { token: OWNER_TOKEN });
      expect(pending.body.pending.length).toBe(codes.length);
      expect((await webchatConnect(gw.wsUrl, "127.0.0.2")).type).toBe("pairing");
    });
  }

  it("a device that reconnects to its pending request spends nothing", async () => {
    const gw = await startGateway({ websocket: { webchatRequestLimit: { capacity: 1, refillPerSecond: 0.001 } } });
    cleanups.push(() => gw.stop());
    const device = deviceId("again");
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const socket = await TestSocket.open(gw.wsUrl);
      cleanups.push(() => socket.close());
      socket.send({ type: "connect", params: { deviceId: device } });
      codes.push((await socket.nextOfType("pairing")).code);
    }
    expect(new Set(codes).size).toBe(1);
  });
});

async function startInstance(store: string, websocket: WebSocketOptions = {}): Promise<string> {
  const gateway = createGateway({ store, secret: SECRET, logger: captureLogger(), http: { port: 0 }, websocket });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  return `${gateway.url.replace(/^http/, "ws")}/ws`;
}

async function budgetHeldAcrossInstances(store: string): Promise<void> {
  const a = await startInstance(store);
  const b = await startInstance(store);
  const { codes } = await parallelCodes([a, b], PARALLEL);
  expect(codes.length).toBeGreaterThan(0);
  expect(codes.length).toBeLessThanOrEqual(BUDGET);
}

const redisUp = await requireRedis();
const postgresUp = await postgresAvailable();

describe(`the budget is the store's: ${PARALLEL} parallel connects spread over two instances get at most ${BUDGET} codes`, () => {
  it("two gateways on one SQLite file", async () => {
    await budgetHeldAcrossInstances(`sqlite:${storeDir()}`);
  });

  it.skipIf(!redisUp)("two gateways on one Redis", async () => {
    const prefix = uniquePrefix();
    cleanups.push(async () => void (await deleteKeys(prefix)));
    await budgetHeldAcrossInstances(`${REDIS_URL}?prefix=${prefix}`);
  });

  it.skipIf(!postgresUp)("two gateways on one PostgreSQL schema", async () => {
    const schemas = schemaNames("budget_");
    cleanups.push(() => schemas.drop());
    await budgetHeldAcrossInstances(schemas.nextUrl());
  });
});

/** Opens a socket that says nothing; resolves with "open" or the HTTP status the upgrade was refused with. */
function rawOpen(wsUrl: string, localAddress: string): Promise<{ result: "open" | number; ws: WebSocket }> {
  const ws = new WebSocket(wsUrl, { localAddress });
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ result: "open", ws }));
    ws.once("unexpected-response", (_request, response) => resolve({ result: response.statusCode ?? 0, ws }));
    ws.once("error", reject);
  });
}

describe("sockets that have not signed in are capped per address and in all", () => {
  it("refuses the upgrade past the per-address cap (429) and past the overall cap (503); hello or close frees a place", async () => {
    const gw = await startGateway({ websocket: { unauthenticatedLimit: { perAddress: 3, total: 5 } } });
    cleanups.push(() => gw.stop());
    const first = await Promise.all([1, 2, 3].map(() => rawOpen(gw.wsUrl, "127.0.0.1")));
    expect(first.map((s) => s.result)).toEqual(["open", "open", "open"]);
    expect((await rawOpen(gw.wsUrl, "127.0.0.1")).result).toBe(429);
    expect((await rawOpen(gw.wsUrl, "127.0.0.2")).result).toBe("open");
    expect((await rawOpen(gw.wsUrl, "127.0.0.2")).result).toBe("open");
    expect((await rawOpen(gw.wsUrl, "127.0.0.3")).result).toBe(503);

    // A socket that closes stops counting.
    const closed = new Promise((resolve) => first[0]!.ws.once("close", resolve));
    first[0]!.ws.close();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const signingIn = await TestSocket.open(gw.wsUrl);
    cleanups.push(() => signingIn.close());
    // ...and so does one that signs in: its place is free again for the next stranger.
    signingIn.send({ type: "connect", params: { token: OWNER_TOKEN } });
    await signingIn.nextOfType("hello");
    expect((await rawOpen(gw.wsUrl, "127.0.0.3")).result).toBe("open");
    const owner = await connectWithToken(gw.wsUrl, OWNER_TOKEN).catch((error: unknown) => error);
    expect(owner).toBeInstanceOf(Error);
  });

  it("has defaults that stop one address from holding hundreds of waiting sockets", async () => {
    const gw = await startGateway();
    cleanups.push(() => gw.stop());
    const results = [];
    for (let i = 0; i < 25; i++) results.push((await rawOpen(gw.wsUrl, "127.0.0.4")).result);
    expect(results.filter((r) => r === "open").length).toBe(20);
    expect(results.slice(20)).toEqual([429, 429, 429, 429, 429]);
  });
});
