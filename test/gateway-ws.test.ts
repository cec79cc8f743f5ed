import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { MemoryPairingStore, MemorySessionBindingStore } from "../src/stores/index.js";
import {
  ADMIN_TOKEN,
  connectWithToken,
  deviceId,
  fixedTokenAuth,
  OWNER_TOKEN,
  SECRET,
  startGateway,
  STORE_KINDS,
  TestSocket,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";

let gw: TestGateway | undefined;
const sockets: TestSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await gw?.stop();
  gw = undefined;
});

async function open(url: string, options?: WebSocket.ClientOptions): Promise<TestSocket> {
  const socket = await TestSocket.open(url, options);
  sockets.push(socket);
  return socket;
}

describe("WebSocket connect", () => {
  it("refuses any frame before connect and closes the socket", async () => {
    gw = await startGateway();
    const socket = await open(gw.wsUrl);
    socket.send({ type: "req", id: 1, method: "session.whoami" });
    const error = await socket.nextOfType("error");
    expect(error.error.code).toBe("connect_required");
    expect((await socket.closed).code).toBe(1008);
  });

  it.each([
    ["malformed JSON", "{nope"],
    ["a JSON array", "[1,2]"],
    ["a connect without params object", JSON.stringify({ type: "connect", params: "token" })],
  ])("closes the socket when the first frame is %s", async (_name, raw) => {
    gw = await startGateway();
    const socket = await open(gw.wsUrl);
    socket.send(raw);
    expect((await socket.nextOfType("error")).error.code).toMatch(/invalid_json|connect_required|invalid_request/);
    expect((await socket.closed).code).toBe(1008);
  });

  it("closes sockets that never say connect after the timeout", async () => {
    gw = await startGateway({ websocket: { connectTimeoutMs: 150 } });
    const socket = await open(gw.wsUrl);
    const closed = await socket.closed;
    expect(closed.code).toBe(4408);
    expect(closed.reason).toMatch(/connect/);
  });

  it("a token connect gets hello with a server-minted session id and the role from auth, not from params", async () => {
    gw = await startGateway();
    const { socket, hello } = await connectWithToken(gw.wsUrl, USER_TOKEN, {
      role: "owner",
      sessionId: "client-chosen-id",
    });
    sockets.push(socket);
    expect(hello.principal).toEqual({ userId: "bob", role: "user" });
    expect(hello.sessionId).not.toBe("client-chosen-id");
    expect(Buffer.from(hello.sessionId, "base64url").length).toBeGreaterThanOrEqual(16);
    expect(await gw.gateway.context.sessions.lookup(hello.sessionId)).toEqual({ userId: "bob", role: "user" });
    const whoami = await socket.request("w", "session.whoami");
    expect(whoami).toEqual({
      type: "res",
      id: "w",
      ok: true,
      payload: { sessionId: hello.sessionId, principal: { userId: "bob", role: "user" } },
    });
    const denied = await socket.request("p", "pairing.list");
    expect(denied.ok).toBe(false);
    expect(denied.error.code).toBe("forbidden");
  });

  it("a deleted token stops working on the next request and closes idle sockets at the next heartbeat", async () => {
    const tokens: Record<string, { userId: string; role: string }> = {
      "tok-a-0123456789": { userId: "amy", role: "owner" },
      "tok-b-0123456789": { userId: "ben", role: "user" },
    };
    gw = await startGateway({ auth: fixedTokenAuth(tokens), websocket: { heartbeatMs: 100 } });
    const busy = await connectWithToken(gw.wsUrl, "tok-a-0123456789");
    sockets.push(busy.socket);
    expect((await busy.socket.request(1, "session.whoami")).ok).toBe(true);
    delete tokens["tok-a-0123456789"];
    busy.socket.send({ type: "req", id: 2, method: "pairing.list" });
    expect((await busy.socket.nextOfType("error")).error.code).toBe("unauthenticated");
    expect((await busy.socket.closed).code).toBe(4401);
    expect(busy.socket.frames.filter((f) => f.type === "res")).toEqual([]);

    const idle = await connectWithToken(gw.wsUrl, "tok-b-0123456789");
    sockets.push(idle.socket);
    delete tokens["tok-b-0123456789"];
    expect((await idle.socket.closed).code).toBe(4401);
  });

  it("a wrong token is refused and closed", async () => {
    gw = await startGateway();
    const socket = await open(gw.wsUrl);
    socket.send({ type: "connect", params: { token: "not-a-token-0123456789" } });
    expect((await socket.nextOfType("error")).error.code).toBe("unauthenticated");
    expect((await socket.closed).code).toBe(4401);
  });

  it("resumes a known session id only for the same principal", async () => {
    gw = await startGateway();
    const first = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    sockets.push(first.socket);
    const resumed = await connectWithToken(gw.wsUrl, OWNER_TOKEN, { sessionId: first.hello.sessionId });
    sockets.push(resumed.socket);
    expect(resumed.hello.sessionId).toBe(first.hello.sessionId);
    const other = await connectWithToken(gw.wsUrl, USER_TOKEN, { sessionId: first.hello.sessionId });
    sockets.push(other.socket);
    expect(other.hello.sessionId).not.toBe(first.hello.sessionId);
    expect(await gw.gateway.context.sessions.lookup(first.hello.sessionId)).toEqual({ userId: "alice", role: "owner" });
  });

  it("refuses a connect with neither token nor deviceId, naming what is needed", async () => {
    gw = await startGateway();
    const socket = await open(gw.wsUrl);
    socket.send({ type: "connect", params: {} });
    const error = await socket.nextOfType("error");
    expect(error.error.message).toMatch(/token.*deviceId/);
    expect((await socket.closed).code).toBe(1008);
  });
});

describe.each(STORE_KINDS)("webchat pairing end to end on $name", (storeKind) => {
  it("unknown device → code → owner approves over HTTP → pairing.approved + hello with a fresh session → chat streams", async () => {
    gw = await startGateway({ storeKind });
    const owner = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    sockets.push(owner.socket);
    const bystander = await connectWithToken(gw.wsUrl, USER_TOKEN);
    sockets.push(bystander.socket);
    const device = deviceId("ann");
    const socket = await open(gw.wsUrl);
    socket.send({ type: "connect", params: { deviceId: device, name: "Ann", sessionId: owner.hello.sessionId } });
    const pairing = await socket.nextOfType("pairing");
    expect(pairing.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(pairing.expiresAt).toBeGreaterThan(Date.now());

    const requested = await owner.socket.next((f) => f.type === "event" && f.event === "pairing.requested");
    expect(requested.payload).toMatchObject({ channelType: "webchat", channelId: device });

    const early = await socket.request("early", "chat.send", { text: "let me in" });
    expect(early.error.code).toBe("forbidden");

    const listed = await owner.socket.request("l", "pairing.list", { channelType: "webchat" });
    expect(listed.payload.pending).toEqual([
      expect.objectContaining({ code: pairing.code, channelId: device, userName: "Ann" }),
    ]);

    const approved = await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code: pairing.code },
    });
    expect(approved.body).toEqual({ approved: true });
    expect(await socket.next((f) => f.type === "event")).toEqual({ type: "event", event: "pairing.approved" });
    const hello = await socket.nextOfType("hello");
    expect(hello.principal).toEqual({ userId: device, role: "user" });
    expect(hello.sessionId).not.toBe(owner.hello.sessionId);
    await owner.socket.next((f) => f.type === "event" && f.event === "pairing.approved");

    socket.send({ type: "req", id: "c1", method: "chat.send", params: { text: "hello gateway" } });
    const deltas: string[] = [];
    let res: Awaited<ReturnType<typeof socket.next>>;
    for (;;) {
      const frame = await socket.next();
      if (frame.type === "event" && frame.event === "chat.delta") {
        expect(frame.payload.id).toBe("c1");
        deltas.push(frame.payload.text);
      } else if (frame.type === "res") {
        res = frame;
        break;
      }
    }
    // The echo agent hands over all its words at once: they leave as one delta event (see "streams chunks" below).
    expect(deltas).toEqual(["echo: hello gateway"]);
    expect(res).toEqual({ type: "res", id: "c1", ok: true, payload: { text: "echo: hello gateway" } });
    expect(deltas.join("")).toBe("echo: hello gateway");

    // A second visit with the same device goes straight to hello.
    const again = await open(gw.wsUrl);
    again.send({ type: "connect", params: { deviceId: device } });
    expect((await again.nextOfType("hello")).principal.userId).toBe(device);

    // Revoking the device closes its open sockets.
    const revoked = await owner.socket.request("r", "pairing.revoke", { channelType: "webchat", channelId: device });
    expect(revoked.payload).toEqual({ revoked: true });
    expect((await socket.closed).code).toBe(4403);
    expect((await again.closed).code).toBe(4403);

    // Pairing events go to owner/admin sockets only.
    expect((await bystander.socket.request("b", "session.whoami")).ok).toBe(true);
    expect(bystander.socket.frames.filter((f) => f.type === "event")).toEqual([]);

    const logs = gw.logger.lines.join("\n");
    expect(logs).not.toContain(pairing.code);
    expect(logs).not.toContain(pairing.code.replace("-", ""));
    expect(logs).not.toContain(OWNER_TOKEN);
  });
});

describe("webchat policies and failures", () => {
  it("policy deny closes with a clear reason and records nothing", async () => {
    gw = await startGateway({ policy: { unknownUserPolicy: "deny" } });
    const socket = await open(gw.wsUrl);
    socket.send({ type: "connect", params: { deviceId: deviceId("x") } });
    const error = await socket.nextOfType("error");
    expect(error.error.code).toBe("forbidden");
    const closed = await socket.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/unknown senders/);
    expect(await gw.gateway.context.pairing.listPending()).toEqual([]);
  });

  it("limits new pairing requests per network address, without blocking known devices", async () => {
    gw = await startGateway({ websocket: { webchatRequestLimit: { capacity: 2, refillPerSecond: 0.001 } } });
    const devices = [deviceId("a"), deviceId("b"), deviceId("c")];
    const codes: string[] = [];
    for (const device of devices.slice(0, 2)) {
      const socket = await open(gw.wsUrl);
      socket.send({ type: "connect", params: { deviceId: device } });
      codes.push((await socket.nextOfType("pairing")).code);
    }
    const flooded = await open(gw.wsUrl);
    flooded.send({ type: "connect", params: { deviceId: devices[2] } });
    expect((await flooded.nextOfType("error")).error.message).toMatch(/Too many pairing requests/);
    expect((await flooded.closed).code).toBe(1008);
    // A device already waiting gets its code again; a paired one is admitted.
    const waiting = await open(gw.wsUrl);
    waiting.send({ type: "connect", params: { deviceId: devices[0] } });
    expect((await waiting.nextOfType("pairing")).code).toBe(codes[0]);
    expect(await gw.gateway.context.pairing.approve("webchat", codes[1]!)).toBe(true);
    const paired = await open(gw.wsUrl);
    paired.send({ type: "connect", params: { deviceId: devices[1] } });
    expect((await paired.nextOfType("hello")).principal.userId).toBe(devices[1]);
    expect((await gw.gateway.context.pairing.listPending()).length).toBe(1);
  });

  it("an owner deny over WebSocket closes the waiting device", async () => {
    gw = await startGateway();
    const owner = await connectWithToken(gw.wsUrl, ADMIN_TOKEN);
    sockets.push(owner.socket);
    const socket = await open(gw.wsUrl);
    socket.send({ type: "connect", params: { deviceId: deviceId("y") } });
    const { code } = await socket.nextOfType("pairing");
    const denied = await owner.socket.request(1, "pairing.deny", { channelType: "webchat", code });
    expect(denied.payload).toEqual({ denied: true });
    const closed = await socket.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toMatch(/denied/);
  });

  it("store down → admission fails closed and says so", async () => {
    const pairingStore = new MemoryPairingStore({ secret: SECRET });
    const down = async (): Promise<never> => {
      throw new Error("ECONNREFUSED");
    };
    pairingStore.isPaired = down;
    pairingStore.isPairedMany = down;
    gw = await startGateway({
      auth: fixedTokenAuth(),
      pairingStore,
      sessionBinding: new MemorySessionBindingStore(),
      policy: { unknownUserPolicy: "allow" },
    });
    const socket = await open(gw.wsUrl);
    socket.send({ type: "connect", params: { deviceId: deviceId("z") } });
    const error = await socket.nextOfType("error");
    expect(error.error.code).toBe("unavailable");
    expect(error.error.message).toMatch(/temporarily unavailable/);
    expect((await socket.closed).code).toBe(1013);
  });

  it("a hanging session store cannot hang the connect: it fails closed after the deadline", async () => {
    const sessionBinding = new MemorySessionBindingStore();
    sessionBinding.bind = () => new Promise<void>(() => {});
    gw = await startGateway({ auth: fixedTokenAuth(), pairingStore: new MemoryPairingStore(), sessionBinding });
    const socket = await open(gw.wsUrl);
    socket.send({ type: "connect", params: { token: OWNER_TOKEN } });
    const error = await socket.nextOfType("error", 5_000);
    expect(error.error.code).toBe("unavailable");
    expect((await socket.closed).code).toBe(1013);
  });
});

describe("WebSocket frames", () => {
  it("bad frames get clear errors and keep the connection; unknown methods are named", async () => {
    gw = await startGateway();
    const { socket } = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    sockets.push(socket);
    socket.send("{not json");
    expect((await socket.nextOfType("error")).error.code).toBe("invalid_json");
    socket.send({ type: "req", method: "session.whoami" });
    expect((await socket.nextOfType("error")).error).toMatchObject({ code: "invalid_request", field: "id" });
    const unknown = await socket.request(2, "pairing.nuke");
    expect(unknown.error).toMatchObject({ code: "unknown_method", field: "method" });
    expect(unknown.error.message).toContain("pairing.nuke");
    const wrongType = await socket.request(3, "chat.send", { text: 42 });
    expect(wrongType.error).toMatchObject({ code: "invalid_request", field: "params.text" });
    const missing = await socket.request(4, "pairing.approve", { channelType: "webchat" });
    expect(missing.error).toMatchObject({ code: "invalid_request", field: "code" });
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await socket.nextOfType("error")).error.message).toMatch(/text frames/);
    expect((await socket.request(5, "session.whoami")).ok).toBe(true);
    expect(await gw.gateway.context.pairing.listPaired()).toEqual([]);
  });

  it("a frame over 64 KiB closes the socket with 1009", async () => {
    gw = await startGateway();
    const { socket } = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    sockets.push(socket);
    socket.send({ type: "req", id: 1, method: "chat.send", params: { text: "x".repeat(70 * 1024) } });
    expect((await socket.closed).code).toBe(1009);
  });

  it("rate-limits each connection with a token bucket", async () => {
    gw = await startGateway({ websocket: { rateLimit: { capacity: 3, refillPerSecond: 0.001 } } });
    const { socket } = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    sockets.push(socket);
    for (let i = 0; i < 4; i++) socket.send({ type: "req", id: i, method: "session.whoami" });
    const limited = await socket.nextOfType("error");
    expect(limited.error.code).toBe("rate_limited");
    const answered = [await socket.nextOfType("res"), await socket.nextOfType("res")];
    expect(answered.every((f) => f.ok)).toBe(true);
    const other = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    sockets.push(other.socket);
    expect((await other.socket.request("x", "session.whoami")).ok).toBe(true);
  });

  it("refuses a cross-site Origin before the handshake and accepts the gateway's own", async () => {
    gw = await startGateway();
    const refused = new WebSocket(gw.wsUrl, { origin: "http://evil.example" });
    const status = await new Promise<number>((resolve) => {
      refused.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      refused.on("open", () => resolve(101));
    });
    expect(status).toBe(403);
    const own = await open(gw.wsUrl, { origin: gw.url });
    own.send({ type: "connect", params: { token: OWNER_TOKEN } });
    expect((await own.nextOfType("hello")).principal.role).toBe("owner");
  });

  it("refuses a foreign Host before the handshake (DNS rebinding), with or without an Origin, even with a valid token", async () => {
    gw = await startGateway();
    const port = new URL(gw.url).port;
    // A rebound name reaches 127.0.0.1 with its own Host (and, from a page, its own Origin); a bare client sends no Origin.
    for (const headers of [
      { host: `evil.example:${port}` },
      { host: `evil.example:${port}`, origin: `http://evil.example:${port}` },
    ]) {
      const refused = new WebSocket(gw.wsUrl, { headers: { ...headers, authorization: `Bearer ${OWNER_TOKEN}` } });
      const answer = await new Promise<{ status: number; body: string }>((resolve) => {
        refused.on("unexpected-response", (_req, res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        refused.on("open", () => resolve({ status: 101, body: "" }));
      });
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(answer.body).error.code).toBe("origin_not_allowed");
    }
    // The gateway's own loopback names still connect.
    const own = await open(gw.wsUrl, { headers: { host: `localhost:${port}` } });
    own.send({ type: "connect", params: { token: OWNER_TOKEN } });
    expect((await own.nextOfType("hello")).principal.role).toBe("owner");
  });

  it("an allowlisted extra origin is accepted", async () => {
    gw = await startGateway({ http: { allowedOrigins: ["https://console.example.com"] } });
    const socket = await open(gw.wsUrl, { origin: "https://console.example.com" });
    socket.send({ type: "connect", params: { token: OWNER_TOKEN } });
    expect((await socket.nextOfType("hello")).principal.userId).toBe("alice");
  });

  it("an agent failure is an agent_error answer, and the socket stays usable", async () => {
    gw = await startGateway({
      agent: (message) => {
        if (message.text === "fail") throw new Error("model exploded");
        return `ok ${message.text}`;
      },
    });
    const { socket } = await connectWithToken(gw.wsUrl, USER_TOKEN);
    sockets.push(socket);
    const failed = await socket.request(1, "chat.send", { text: "fail" });
    expect(failed.error.code).toBe("agent_error");
    expect(JSON.stringify(failed)).not.toContain("exploded");
    expect((await socket.request(2, "chat.send", { text: "hi" })).payload).toEqual({ text: "ok hi" });
  });

  it("streams chunks an agent produces over time as separate deltas, joins chunks of one tick, and ends with res", async () => {
    const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
    gw = await startGateway({
      agent: async function* () {
        yield "one ";
        yield "two ";
        await pause();
        yield "three";
        await pause();
        yield " four";
      },
    });
    const { socket } = await connectWithToken(gw.wsUrl, USER_TOKEN);
    sockets.push(socket);
    socket.send({ type: "req", id: "s", method: "chat.send", params: { text: "count" } });
    // Frames in the order they arrived, up to the res that ends the request: every delta must come before it.
    const deltas: unknown[] = [];
    for (;;) {
      const frame = await socket.next();
      if (frame.type === "res") {
        expect(frame).toEqual({ type: "res", id: "s", ok: true, payload: { text: "one two three four" } });
        break;
      }
      if (frame.event === "chat.delta") deltas.push(frame.payload);
    }
    expect(deltas).toEqual([
      { id: "s", text: "one two " },
      { id: "s", text: "three" },
      { id: "s", text: " four" },
    ]);
  });

  it("the frames of one tick leave in one write and arrive whole, in order, at every frame length and in UTF-8", async () => {
    // Each reply's delta and res leave together (ws-writer.ts); lengths below 126 bytes, up to 65535 and above take the
    // three header forms of a WebSocket frame.
    const replies: Record<string, string> = {
      short: "héllo 👋",
      middle: `${"ü".repeat(300)} ✓`,
      long: `${"ж".repeat(40_000)} 👋`,
    };
    gw = await startGateway({ agent: (message) => replies[message.text] ?? "?" });
    const { socket } = await connectWithToken(gw.wsUrl, USER_TOKEN);
    sockets.push(socket);
    const arrived: unknown[] = [];
    socket.ws.on("message", (data, isBinary) =>
      arrived.push(isBinary ? "a binary frame" : JSON.parse(data.toString())),
    );
    for (const name of Object.keys(replies))
      socket.send({ type: "req", id: name, method: "chat.send", params: { text: name } });
    await socket.next((f) => f.type === "res" && f.id === "long", 10_000);
    // Each request's delta, then its res, whole and in the order sent.
    expect(arrived).toEqual(
      Object.entries(replies).flatMap(([name, reply]) => [
        { type: "event", event: "chat.delta", payload: { id: name, text: reply } },
        { type: "res", id: name, ok: true, payload: { text: reply } },
      ]),
    );
  });

  it("stop() closes open sockets with 1001", async () => {
    gw = await startGateway();
    const { socket } = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    await gw.stop();
    gw = undefined;
    expect((await socket.closed).code).toBe(1001);
  });
});
