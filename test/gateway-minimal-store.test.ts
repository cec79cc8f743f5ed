/**
 * Issue 14 item 2, over WebSocket: the gateway is correct with a minimal store written from the protocol's six-method
 * table (a Map; a fresh 8-hex-digit code on every generateCode call; no subscribe, deny or audit). One connect asks for
 * one code; an approval made outside the gateway reaches the waiting socket by the bounded isPaired poll; an approve
 * without a userId names the requester to the store.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { APPROVAL_POLL_INTERVAL_MS } from "../src/gateway/approval-poll.js";
import type { PairedChannel, PendingRequest } from "../src/protocols/types.js";
import { deviceId, OWNER_TOKEN, startGateway, TestSocket, type TestGateway } from "./gateway-helpers.js";

/** What a user writes from the README's table: codes are the store's own (8 hex digits), one per call. */
class MapPairingStore {
  readonly pending = new Map<string, { channelType: string; channelId: string; createdAt: number }>();
  readonly paired = new Map<string, PairedChannel>();
  generateCalls = 0;
  readonly approveCalls: { code: string; userId: string }[] = [];

  generateCode(channelType = "unknown", channelId = ""): string {
    this.generateCalls += 1;
    const code = randomBytes(4).toString("hex");
    this.pending.set(code, { channelType, channelId, createdAt: Date.now() });
    return code;
  }

  approve(channelType: string, code: string, userId = "", userName = ""): boolean {
    this.approveCalls.push({ code, userId });
    const entry = this.pending.get(code.trim().toLowerCase());
    if (!entry || entry.channelType !== channelType) return false;
    this.pending.delete(code.trim().toLowerCase());
    // Like the protocol docs' examples: the pairing is keyed by the userId it is given.
    this.paired.set(`${channelType}:${userId}`, {
      channelId: userId,
      channelType,
      label: userName,
      pairedAt: Date.now(),
    });
    return true;
  }

  isPaired(channelId: string, channelType: string): boolean {
    return this.paired.has(`${channelType}:${channelId}`);
  }

  listPaired(): PairedChannel[] {
    return [...this.paired.values()];
  }

  revoke(channelId: string, channelType: string): boolean {
    return this.paired.delete(`${channelType}:${channelId}`);
  }

  listPending(channelType?: string): PendingRequest[] {
    return [...this.pending.entries()]
      .filter(([, e]) => channelType === undefined || e.channelType === channelType)
      .map(([code, e]) => ({
        code,
        channelType: e.channelType,
        channelId: e.channelId,
        userId: e.channelId,
        userName: "",
        createdAt: e.createdAt,
        ageSeconds: Math.floor((Date.now() - e.createdAt) / 1000),
        kind: "request" as const,
      }));
  }
}

const running: TestGateway[] = [];
const sockets: TestSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  for (const gw of running.splice(0)) await gw.stop();
});

async function waitingDevice(gw: TestGateway): Promise<{ socket: TestSocket; device: string; code: string }> {
  const device = deviceId("minimal");
  const socket = await TestSocket.open(gw.wsUrl);
  sockets.push(socket);
  socket.send({ type: "connect", params: { deviceId: device } });
  const pairing = await socket.nextOfType("pairing");
  return { socket, device, code: pairing.code };
}

async function start(store: MapPairingStore): Promise<TestGateway> {
  const gw = await startGateway({ pairingStore: store });
  running.push(gw);
  return gw;
}

describe("a minimal Map-backed store (six methods, 8-hex codes, no subscribe)", () => {
  it("one connect asks the store for one code: the device shows one pending code", async () => {
    const store = new MapPairingStore();
    const gw = await start(store);
    const { device, code } = await waitingDevice(gw);
    expect(code).toMatch(/^[0-9a-f]{8}$/);
    expect(store.generateCalls).toBe(1);
    const pending = await gw.api("GET", "/api/pairing/pending?channelType=webchat", { token: OWNER_TOKEN });
    expect(
      pending.body.pending.filter((p: PendingRequest) => p.channelId === device).map((p: PendingRequest) => p.code),
    ).toEqual([code]);
  });

  it(`an approval made outside the gateway reaches the waiting socket within the poll interval (${APPROVAL_POLL_INTERVAL_MS} ms)`, async () => {
    const store = new MapPairingStore();
    const gw = await start(store);
    const { socket, device, code } = await waitingDevice(gw);
    // Another process sharing the store approves: nothing tells this gateway but the store itself.
    const approvedAt = Date.now();
    expect(store.approve("webchat", code, device)).toBe(true);
    await socket.next((f) => f.type === "event" && f.event === "pairing.approved", APPROVAL_POLL_INTERVAL_MS + 1_000);
    const hello = await socket.nextOfType("hello");
    expect(Date.now() - approvedAt).toBeLessThanOrEqual(APPROVAL_POLL_INTERVAL_MS + 1_000);
    expect(hello.principal).toEqual({ userId: device, role: "user" });
    expect((await socket.request("w", "session.whoami")).ok).toBe(true);
  });

  it("a waiting socket is never let in on the client's word: only the store's isPaired counts", async () => {
    const store = new MapPairingStore();
    const gw = await start(store);
    const { socket } = await waitingDevice(gw);
    socket.send({ type: "connect", params: { deviceId: deviceId("other") } });
    const refused = await socket.request("early", "session.whoami");
    expect(refused.ok).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, APPROVAL_POLL_INTERVAL_MS + 200));
    expect(socket.frames.some((f) => f.type === "hello")).toBe(false);
  });

  it("an HTTP approve without a userId names the requester to the store, and the waiting device gets in", async () => {
    const store = new MapPairingStore();
    const gw = await start(store);
    const { socket, device, code } = await waitingDevice(gw);
    const approved = await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code },
    });
    expect(approved.body).toEqual({ approved: true });
    expect(store.approveCalls).toEqual([{ code, userId: device }]);
    expect(store.isPaired(device, "webchat")).toBe(true);
    await socket.nextOfType("hello");
  });
});
