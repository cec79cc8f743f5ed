/**
 * Webchat is a channel (issue 13 item 4): the gateway's WebSocket transport hands token-less connects to the webchat
 * channel, which admits them through the channel router. createGateway runs it by default (the rest of the webchat
 * behaviour is in gateway-ws.test.ts and friends); these tests pin the seam: off when asked, absent from the bare
 * gateway layer, and the router's per-channel options applying to devices.
 */
import { afterEach, describe, expect, it } from "vitest";
import { webchatChannel } from "../src/channels/webchat/index.js";
import { createBareGateway } from "../src/gateway/create-gateway.js";
import type { Gateway } from "../src/gateway/index.js";
import {
  connectWithToken,
  deviceId,
  fixedTokenAuth,
  OWNER_TOKEN,
  SECRET,
  startGateway,
  TestSocket,
  type Frame,
  type TestGateway,
} from "./gateway-helpers.js";

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const gateway of running.splice(0)) await gateway.stop();
});

async function start(options: Parameters<typeof startGateway>[0]): Promise<TestGateway> {
  const gw = await startGateway(options);
  running.push(gw);
  return gw;
}

/** Says connect with a device id; resolves with the first frame the gateway answers. */
async function connectDevice(wsUrl: string, device: string): Promise<{ socket: TestSocket; first: Frame }> {
  const socket = await TestSocket.open(wsUrl);
  socket.send({ type: "connect", params: { deviceId: device, name: "Browser" } });
  return { socket, first: await socket.next(() => true, 10_000) };
}

describe("webchat as a channel of the gateway", () => {
  it("runs by default: an unknown device gets a pairing code", async () => {
    const gw = await start({});
    const { socket, first } = await connectDevice(gw.wsUrl, deviceId("default"));
    expect(first.type).toBe("pairing");
    expect(typeof first.code).toBe("string");
    socket.close();
  });

  it("webchat: false serves token sockets only: a device connect is closed 1008 with a clear error", async () => {
    const gw = await start({ webchat: false });
    const { socket, first } = await connectDevice(gw.wsUrl, deviceId("off"));
    expect(first).toMatchObject({ type: "error", error: { code: "invalid_request" } });
    expect(first.error.message).toContain("no webchat channel");
    expect((await socket.closed).code).toBe(1008);
    const owner = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    expect(owner.hello.principal).toMatchObject({ role: "owner" });
    owner.socket.close();
    // Nothing was asked of the store: no pending request for the device.
    const pending = await gw.api("GET", "/api/pairing/pending", { token: OWNER_TOKEN });
    expect(pending.body.pending).toEqual([]);
  });

  it("the bare gateway layer names no channel, so it runs webchat only when given it", async () => {
    const bare: Gateway = createBareGateway({
      auth: fixedTokenAuth(),
      store: "memory:",
      secret: SECRET,
      http: { port: 0 },
    });
    await bare.start();
    running.push(bare);
    const wsUrl = `${bare.url.replace(/^http/, "ws")}/ws`;
    const { socket, first } = await connectDevice(wsUrl, deviceId("bare"));
    expect(first).toMatchObject({ type: "error", error: { code: "invalid_request" } });
    expect((await socket.closed).code).toBe(1008);
  });

  it("devices go through the channel router: webchat's own allowlist and unknown-sender policy apply to them", async () => {
    const allowed = deviceId("allowed");
    const gw = await start({ webchat: webchatChannel({ allowedUsers: [allowed], unknownUserPolicy: "deny" }) });
    const inside = await connectDevice(gw.wsUrl, allowed);
    expect(inside.first).toMatchObject({ type: "hello", principal: { userId: allowed, role: "user" } });
    inside.socket.close();
    const stranger = await connectDevice(gw.wsUrl, deviceId("stranger"));
    expect(stranger.first).toMatchObject({ type: "error", error: { code: "forbidden" } });
    expect((await stranger.socket.closed).code).toBe(1008);
  });

  it("refuses a webchat option that is not a socket channel, naming it", () => {
    expect(() =>
      createBareGateway({ auth: fixedTokenAuth(), store: "memory:", secret: SECRET, webchat: {} as never }),
    ).toThrow(/webchat must be a socket channel/);
  });
});
