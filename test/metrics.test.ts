/**
 * GET /metrics through a real gateway: who may read it, and what a short scripted run (a webchat stranger asks, the
 * owner approves over HTTP, a message reaches the echo agent) leaves in the counters and histograms. Two gateways in
 * one process count apart.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ChannelHealth, ChannelPlugin } from "../src/core/context.js";
import { StoreUnavailableError } from "../src/pairing/errors.js";
import { MemoryPairingStore } from "../src/stores/index.js";
import { sample } from "./support/prometheus-text.js";
import {
  ADMIN_TOKEN,
  connectWithToken,
  deviceId,
  OWNER_TOKEN,
  startGateway,
  STORE_KINDS,
  TestSocket,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";
import { until } from "./support/until.js";

const sqlite = STORE_KINDS.find((kind) => kind.name === "sqlite")!;
const gateways: TestGateway[] = [];
const sockets: TestSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  for (const gw of gateways.splice(0)) await gw.stop();
});

async function start(options: Parameters<typeof startGateway>[0] = {}): Promise<TestGateway> {
  const gw = await startGateway({ storeKind: sqlite, ...options });
  gateways.push(gw);
  return gw;
}

async function scrape(gw: TestGateway, token = OWNER_TOKEN): Promise<string> {
  const response = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.text();
}

/** A webchat device that asks, is approved by the owner over HTTP, and sends one message; returns its open socket. */
async function pairAndChat(gw: TestGateway, text: string): Promise<{ socket: TestSocket; reply: Record<string, any> }> {
  const socket = await TestSocket.open(gw.wsUrl);
  sockets.push(socket);
  socket.send({ type: "connect", params: { deviceId: deviceId("metrics"), name: "Stranger" } });
  const { code } = await socket.nextOfType("pairing", 10_000);
  const approved = await gw.api("POST", "/api/pairing/approve", {
    token: OWNER_TOKEN,
    body: { channelType: "webchat", code },
  });
  expect(approved.status).toBe(200);
  await socket.nextOfType("hello", 10_000);
  return { socket, reply: await socket.request("c1", "chat.send", { text }) };
}

describe("GET /metrics", () => {
  it("is on the admin side of the auth: 401 without a credential, 403 for a user, 200 for owners and admins", async () => {
    const gw = await start();
    const anonymous = await fetch(`${gw.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain("gatehouse_");
    const user = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${USER_TOKEN}` } });
    expect(user.status).toBe(403);
    expect(((await user.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    for (const token of [OWNER_TOKEN, ADMIN_TOKEN]) {
      const response = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      expect(text).toContain("# TYPE gatehouse_store_call_duration_seconds histogram");
      expect(text).toContain("# TYPE gatehouse_websocket_connections gauge");
    }
  });

  it("after a stranger is paired and chats, counts the admission, the pairing events, the store calls, the agent turn and the socket", async () => {
    const gw = await start();
    const { socket, reply } = await pairAndChat(gw, "hello metrics");
    expect(reply).toMatchObject({ ok: true, payload: { text: "echo: hello metrics" } });

    const text = await scrape(gw);
    expect(
      sample(text, "gatehouse_admission_decisions_total", { channel: "webchat", decision: "pending", reason: "new" }),
    ).toBe(1);
    expect(
      sample(text, "gatehouse_admission_decisions_total", {
        channel: "webchat",
        decision: "admitted",
        reason: "paired",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, "gatehouse_admission_decisions_total", { decision: "unavailable" })).toBeUndefined();
    expect(sample(text, "gatehouse_pairing_events_total", { channel: "webchat", event: "requested" })).toBe(1);
    expect(sample(text, "gatehouse_pairing_events_total", { channel: "webchat", event: "approved" })).toBe(1);
    expect(sample(text, "gatehouse_pairing_events_total", { event: "denied" })).toBeUndefined();
    expect(
      sample(text, "gatehouse_store_call_duration_seconds_count", {
        backend: "sqlite",
        method: "pairing.generateCode",
      }),
    ).toBe(1);
    expect(
      sample(text, "gatehouse_store_call_duration_seconds_count", { backend: "sqlite", method: "pairing.approve" }),
    ).toBe(1);
    expect(
      sample(text, "gatehouse_store_call_duration_seconds_count", { backend: "sqlite", method: "sessions.bind" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, "gatehouse_store_call_duration_seconds_bucket", {
        backend: "sqlite",
        method: "pairing.approve",
        le: "+Inf",
      }),
    ).toBe(1);
    expect(sample(text, "gatehouse_store_call_errors_total")).toBeUndefined();
    // Methods the gateway never called (and the stores' own helpers) show no series.
    expect(sample(text, "gatehouse_store_call_duration_seconds_count", { method: "pairing.revoke" })).toBeUndefined();
    expect(sample(text, "gatehouse_agent_turn_duration_seconds_count", { channel: "webchat", outcome: "ok" })).toBe(1);
    expect(sample(text, "gatehouse_agent_errors_total")).toBeUndefined();
    expect(sample(text, "gatehouse_websocket_connections")).toBe(1);

    socket.close();
    await until(
      async () => sample(await scrape(gw), "gatehouse_websocket_connections") === 0,
      "the socket to be counted as closed",
      15_000,
    );
  });

  it("a store that is down: the admission is counted as unavailable and the failed calls under the backend named by storeBackend", async () => {
    class DownStore extends MemoryPairingStore {
      override async isPaired(): Promise<never> {
        throw new StoreUnavailableError("memory", { cause: new Error("connection reset") });
      }
      override async isPairedMany(): Promise<never> {
        throw new StoreUnavailableError("memory", { cause: new Error("connection reset") });
      }
    }
    const gw = await start({ pairingStore: new DownStore(), storeBackend: "flaky" });
    const socket = await TestSocket.open(gw.wsUrl);
    sockets.push(socket);
    socket.send({ type: "connect", params: { deviceId: deviceId("down"), name: "Stranger" } });
    await socket.closed;
    const text = await scrape(gw);
    expect(
      sample(text, "gatehouse_admission_decisions_total", {
        channel: "webchat",
        decision: "unavailable",
        reason: "store",
      }),
    ).toBe(1);
    expect(sample(text, "gatehouse_admission_decisions_total", { decision: "pending" })).toBeUndefined();
    const failed = sample(text, "gatehouse_store_call_errors_total", {
      backend: "flaky",
      method: "pairing.isPairedMany",
    });
    expect(failed).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, "gatehouse_store_call_duration_seconds_count", { backend: "flaky", method: "pairing.isPairedMany" }),
    ).toBe(failed);
  });

  it("counts a failing agent turn as an error, by channel", async () => {
    const gw = await start({
      agent: () => {
        throw new Error("the model is down");
      },
    });
    const { reply } = await pairAndChat(gw, "anyone there?");
    expect(reply.ok).toBe(false);
    const text = await scrape(gw);
    expect(sample(text, "gatehouse_agent_errors_total", { channel: "webchat" })).toBe(1);
    expect(sample(text, "gatehouse_agent_turn_duration_seconds_count", { channel: "webchat", outcome: "error" })).toBe(
      1,
    );
    expect(sample(text, "gatehouse_agent_turn_duration_seconds_count", { outcome: "ok" })).toBeUndefined();
  });

  it("shows each channel's health as 1 (ok) or 0 (degraded) at the time of the scrape", async () => {
    let health: ChannelHealth = { status: "ok" };
    const channel: ChannelPlugin = {
      channelType: "chat",
      start: async () => undefined,
      stop: async () => undefined,
      health: () => health,
    };
    const gw = await start({ channels: [channel] });
    expect(sample(await scrape(gw), "gatehouse_channel_up", { channel: "chat" })).toBe(1);
    health = { status: "degraded", reason: "cannot log in" };
    expect(sample(await scrape(gw), "gatehouse_channel_up", { channel: "chat" })).toBe(0);
  });

  it("two gateways in one process keep their own counts", async () => {
    const first = await start();
    const second = await start();
    await pairAndChat(first, "only on the first");
    const owner = await connectWithToken(second.wsUrl, OWNER_TOKEN);
    sockets.push(owner.socket);
    const [one, two] = [await scrape(first), await scrape(second)];
    expect(sample(one, "gatehouse_admission_decisions_total", { channel: "webchat" })).toBeGreaterThanOrEqual(2);
    expect(sample(two, "gatehouse_admission_decisions_total")).toBeUndefined();
    expect(sample(one, "gatehouse_agent_turn_duration_seconds_count")).toBe(1);
    expect(sample(two, "gatehouse_agent_turn_duration_seconds_count")).toBeUndefined();
    expect(sample(two, "gatehouse_websocket_connections")).toBe(1);
  });
});
