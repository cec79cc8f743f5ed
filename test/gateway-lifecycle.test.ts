import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mintToken } from "../src/auth/index.js";
import { createGateway, type Gateway, type GatewayOptions } from "../src/gateway/index.js";
import type { ChannelPlugin, GatewayContext } from "../src/core/context.js";
import { openStores } from "../src/stores/index.js";
import type { AuditEvent, Stores } from "../src/stores/types.js";
import { captureLogger, connectWithToken, deviceId, fixedTokenAuth, SECRET, TestSocket } from "./gateway-helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gh-lifecycle-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A gateway on the memory store with token auth, a free port and a captured log; `options` add or override. */
function testGateway(options: GatewayOptions = {}): Gateway {
  return createGateway({
    store: "memory:",
    secret: SECRET,
    auth: fixedTokenAuth(),
    http: { port: 0 },
    logger: captureLogger(),
    ...options,
  });
}

async function started(gateway: Gateway): Promise<Gateway> {
  await gateway.start();
  cleanups.push(() => gateway.stop());
  return gateway;
}

describe("createGateway options", () => {
  it("names every missing member of injected objects in one TypeError", () => {
    expect(() => createGateway({ pairingStore: { generateCode() {}, isPaired() {} } as never })).toThrow(
      new TypeError("pairingStore is missing: approve, listPaired, listPending, revoke"),
    );
    expect(() => createGateway({ auth: {} as never })).toThrow(new TypeError("auth is missing: check"));
    expect(() => createGateway({ sessionBinding: { bind: 1 } as never })).toThrow(
      new TypeError("sessionBinding is missing: bind, lookup"),
    );
  });

  it("refuses bad policy, http and secret options with the key named", () => {
    expect(() => createGateway({ policy: { unknownUserPolicy: "open" as never } })).toThrow(
      /policy\.unknownUserPolicy/,
    );
    expect(() => createGateway({ policy: { ownerUserIds: [""] } })).toThrow(/policy\.ownerUserIds/);
    expect(() => createGateway({ http: { port: 70_000 } })).toThrow(/http\.port/);
    expect(() => createGateway({ http: { allowedOrigins: ["not an origin"] } })).toThrow(/http\.allowedOrigins/);
    expect(() => createGateway({ secret: Buffer.alloc(8) })).toThrow(/secret/);
    expect(() => createGateway({ channels: [{ channelType: "x" } as never] })).toThrow(/channels\[0\]/);
  });

  it("url and context are only there once started", () => {
    const gateway = createGateway({ store: "memory:", secret: SECRET });
    expect(() => gateway.url).toThrow(/start/);
    expect(() => gateway.context).toThrow(/start/);
  });
});

describe("default stores and auth", () => {
  it("opens SQLite from the URL, uses token auth on the store's tokens, and closes what it opened on stop", async () => {
    const dir = tempDir();
    const url = `sqlite:${join(dir, "gh.db")}`;
    // Like `gatehouse token create` in another process: a separate connection to the same file.
    const cli = await openStores(url, { secret: SECRET });
    cleanups.push(() => cli.close());
    if (!cli.tokens) throw new Error("sqlite store must keep tokens");
    const { token } = await mintToken(cli.tokens, { role: "owner", userId: "root" });

    const gateway = createGateway({
      store: url,
      secret: SECRET,
      dataDir: dir,
      http: { port: 0 },
      logger: captureLogger(),
    });
    await gateway.start();
    const ok = await fetch(`${gateway.url}/api/pairing/paired`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const refused = await fetch(`${gateway.url}/api/pairing/paired`, {
      headers: { authorization: `Bearer gh_${"A".repeat(43)}` },
    });
    expect(refused.status).toBe(401);
    const pairing = gateway.context.pairing;
    await gateway.stop();
    await expect(Promise.resolve().then(() => pairing.listPending())).rejects.toThrow();
    await gateway.stop(); // idempotent
  });

  it("loads or creates the gateway secret in dataDir when none is given", async () => {
    const dir = tempDir();
    const gateway = await started(
      createGateway({ store: "memory:", dataDir: dir, http: { port: 0 }, logger: captureLogger() }),
    );
    expect(gateway.context.secret.length).toBeGreaterThanOrEqual(32);
  });

  it("a failed start (port in use) rejects with the cause, and stop() after it is harmless", async () => {
    const first = await started(testGateway());
    const port = Number(new URL(first.url).port);
    const second = testGateway({ http: { port } });
    await expect(second.start()).rejects.toThrow(/EADDRINUSE|address already in use/);
    await second.stop();
  });
});

describe("store events reach the gateway", () => {
  it("an approval made by another process (CLI) on the SQLite file emits pairing.approved and admits the waiting device", async () => {
    const dir = tempDir();
    const url = `sqlite:${join(dir, "gh.db")}`;
    const gateway = await started(testGateway({ store: url }));
    const seen: AuditEvent[] = [];
    gateway.events.on("audit", (event: AuditEvent) => seen.push(event));
    const approvedEvent = new Promise<AuditEvent>((resolve) => gateway.events.once("pairing.approved", resolve));

    const socket = await TestSocket.open(`${gateway.url.replace("http", "ws")}/ws`);
    cleanups.push(() => socket.ws.terminate());
    const device = deviceId("cli");
    socket.send({ type: "connect", params: { deviceId: device } });
    const { code } = await socket.nextOfType("pairing");

    const cli: Stores = await openStores(url, { secret: SECRET });
    cleanups.push(() => cli.close());
    expect(await cli.pairing.approve("webchat", code, "", "", { approvedBy: "cli-owner" })).toBe(true);

    const event = await approvedEvent;
    expect(event).toMatchObject({ type: "approved", channelType: "webchat", channelId: device, actor: "cli-owner" });
    expect(await socket.next((f) => f.type === "event")).toEqual({ type: "event", event: "pairing.approved" });
    expect((await socket.nextOfType("hello")).principal.userId).toBe(device);
    expect(seen.map((e) => e.type)).toEqual(expect.arrayContaining(["requested", "approved"]));
  });

  it("a protocol-only store (no subscribe) still gets its approvals to waiting sockets", async () => {
    const { MemoryPairingStore, MemorySessionBindingStore } = await import("../src/stores/index.js");
    const inner = new MemoryPairingStore({ secret: SECRET });
    const pairingStore = {
      generateCode: (t?: string, id?: string) => inner.generateCode(t, id),
      approve: (t: string, c: string, u?: string, n?: string) => inner.approve(t, c, u, n),
      isPaired: (id: string, t: string) => inner.isPaired(id, t),
      listPaired: () => inner.listPaired(),
      revoke: (id: string, t: string) => inner.revoke(id, t),
      listPending: (t?: string) => inner.listPending(t),
    };
    const gateway = await started(
      createGateway({
        auth: fixedTokenAuth(),
        pairingStore,
        sessionBinding: new MemorySessionBindingStore(),
        secret: SECRET,
        http: { port: 0 },
        logger: captureLogger(),
      }),
    );
    const wsUrl = `${gateway.url.replace("http", "ws")}/ws`;
    const socket = await TestSocket.open(wsUrl);
    cleanups.push(() => socket.ws.terminate());
    socket.send({ type: "connect", params: { deviceId: deviceId("plain") } });
    const { code } = await socket.nextOfType("pairing");
    const owner = await connectWithToken(wsUrl, "owner-token-0123456789abcdef");
    cleanups.push(() => owner.socket.ws.terminate());
    expect((await owner.socket.request(1, "pairing.approve", { channelType: "webchat", code })).payload).toEqual({
      approved: true,
    });
    expect((await socket.nextOfType("hello")).principal.role).toBe("user");
  });
});

describe("channels", () => {
  it("start with the gateway context and stop with the gateway, in reverse order", async () => {
    const calls: string[] = [];
    let seen: GatewayContext | undefined;
    const channel = (name: string): ChannelPlugin => ({
      channelType: name,
      async start(ctx) {
        seen = ctx;
        calls.push(`start ${name}`);
      },
      async stop() {
        calls.push(`stop ${name}`);
      },
    });
    const gateway = testGateway({ channels: [channel("a"), channel("b")], policy: { ownerUserIds: ["telegram:1"] } });
    await gateway.start();
    expect(await seen?.isOwner("telegram", "1")).toBe(true);
    expect(await seen?.isOwner("discord", "1")).toBe(false);
    expect(seen?.events).toBe(gateway.events);
    await gateway.stop();
    expect(calls).toEqual(["start a", "start b", "stop b", "stop a"]);
  });

  it("a channel that fails to start stops the gateway start and releases the port", async () => {
    const probe = testGateway();
    await probe.start();
    const port = Number(new URL(probe.url).port);
    await probe.stop();
    const stopped: string[] = [];
    const gateway = testGateway({
      http: { port },
      channels: [
        { channelType: "good", start: async () => {}, stop: async () => void stopped.push("good") },
        {
          channelType: "bad",
          start: async () => Promise.reject(new Error("no bot token")),
          stop: async () => void stopped.push("bad"),
        },
      ],
    });
    await expect(gateway.start()).rejects.toThrow("no bot token");
    expect(stopped).toEqual(["good"]);
    const next = await started(testGateway({ http: { port } }));
    expect(next.url).toBe(`http://127.0.0.1:${port}`);
  });
});

describe("heartbeat", () => {
  it("terminates a socket that stops answering pings and keeps one that answers", async () => {
    const gateway = await started(testGateway({ websocket: { heartbeatMs: 50 } }));
    const wsUrl = `${gateway.url.replace("http", "ws")}/ws`;
    const silent = await TestSocket.open(wsUrl, { autoPong: false });
    const lively = await TestSocket.open(wsUrl);
    cleanups.push(() => lively.ws.terminate());
    lively.send({ type: "connect", params: { token: "owner-token-0123456789abcdef" } });
    await lively.nextOfType("hello");
    expect((await silent.closed).code).toBe(1006);
    expect(lively.ws.readyState).toBe(lively.ws.OPEN);
    expect((await lively.request(1, "session.whoami")).ok).toBe(true);
  });
});

describe("console", () => {
  it("serves web/dist at /console/ when present", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>gatehouse console</title>");
    writeFileSync(join(dir, "assets", "app.js"), "console.log('hi')");
    const gateway = await started(testGateway({ consoleDir: dir }));
    const index = await fetch(`${gateway.url}/console/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain("gatehouse console");
    expect((await fetch(`${gateway.url}/console/assets/app.js`)).status).toBe(200);
    const bare = await fetch(`${gateway.url}/console`, { redirect: "manual" });
    expect(bare.status).toBe(302);
    // The gateway's bare address leads to the console; following the redirects ends on its page.
    const root = await fetch(`${gateway.url}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/console");
    expect(await (await fetch(`${gateway.url}/`)).text()).toContain("gatehouse console");
    const traversal = await fetch(`${gateway.url}/console/..%2f..%2fpackage.json`);
    expect(traversal.status).toBeGreaterThanOrEqual(400);
    expect(await traversal.text()).not.toContain("devDependencies");
  });
});
