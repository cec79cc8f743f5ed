/**
 * Advisory regressions: one table-driven test per rule of DESIGN.md "Security rules", through real gateways (real HTTP,
 * real WebSockets, real SQLite files, the CLI as a child process).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FORWARDING_HEADERS, localSocketAuth } from "../src/auth/local-socket.js";
import { mintToken } from "../src/auth/token.js";
import { trustedProxyAuth } from "../src/auth/trusted-proxy.js";
import { createGateway } from "../src/gateway/index.js";
import { KeyedBuckets } from "../src/gateway/rate-limit.js";
import { normalizeAddress } from "../src/gateway/request-view.js";
import { buttonKey, signButtonToken, verifyButtonToken } from "../src/pairing/buttons.js";
import { safeEqual } from "../src/pairing/hashing.js";
import { loadGatewaySecret } from "../src/pairing/secret.js";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import { cliWorkspace, runGatehouse } from "./cli-helpers.js";
import {
  captureLogger,
  connectWithToken,
  deviceId,
  OWNER_TOKEN,
  SECRET,
  startGateway,
  STORE_KINDS,
  TestSocket,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";
import { CHAT, CHAT_OWNER, leaks, sharedSqlite, startChatGateway, type ChatGateway } from "./support/chat-gateway.js";
import { jsonRequest, startSameHostProxy } from "./support/reverse-proxy.js";
import { until } from "./support/until.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});
function later<T extends { stop(): Promise<void> }>(thing: T): T {
  cleanups.push(() => thing.stop());
  return thing;
}
function closing(socket: TestSocket): TestSocket {
  cleanups.push(() => socket.ws.terminate());
  return socket;
}
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gh-sec-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A webchat device asks to pair; resolves with its socket and the code it was shown. */
async function pendingDevice(
  gw: TestGateway,
  label = "dev",
): Promise<{ socket: TestSocket; id: string; code: string }> {
  const id = deviceId(label);
  const socket = closing(await TestSocket.open(gw.wsUrl));
  socket.send({ type: "connect", params: { deviceId: id } });
  const frame = await socket.nextOfType("pairing");
  return { socket, id, code: frame.code as string };
}

/** node:http with headers as given: an array value goes out as the same header repeated. */
function rawHeaderStatus(base: string, path: string, headers: Record<string, string | string[]>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: "GET" }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    req.on("error", reject);
    req.end();
  });
}

/** Plain node:http (fetch adds sec-fetch-* headers, which the local owner check rightly treats as a browser). */
function rawGet(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "GET", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("rule: one owner check on every approve/deny/revoke path", () => {
  it.each(STORE_KINDS.map((k) => [k.name, k] as const))(
    "HTTP and WebSocket without owner rights change nothing (%s)",
    async (_n, storeKind) => {
      const gw = later(await startGateway({ storeKind }));
      const waiting = await pendingDevice(gw, "waiting");
      const paired = await pendingDevice(gw, "paired");
      expect(
        (
          await gw.api("POST", "/api/pairing/approve", {
            token: OWNER_TOKEN,
            body: { channelType: "webchat", code: paired.code },
          })
        ).body,
      ).toEqual({ approved: true });
      await paired.socket.nextOfType("hello");

      const http: Array<[string, string, unknown]> = [
        ["POST", "/api/pairing/approve", { channelType: "webchat", code: waiting.code }],
        ["POST", "/api/pairing/deny", { channelType: "webchat", code: waiting.code }],
        ["DELETE", `/api/pairing/paired/webchat/${paired.id}`, undefined],
        ["POST", "/api/pairing/invites", { channelType: "webchat" }],
      ];
      const statuses: number[] = [];
      for (const [method, path, body] of http) {
        statuses.push((await gw.api(method, path, { token: USER_TOKEN, ...(body ? { body } : {}) })).status);
        statuses.push((await gw.api(method, path, body ? { body } : {})).status);
      }
      expect(statuses).toEqual([403, 401, 403, 401, 403, 401, 403, 401]);

      const { socket: user } = await connectWithToken(gw.wsUrl, USER_TOKEN);
      closing(user);
      const ws: Array<[string, unknown]> = [
        ["pairing.approve", { channelType: "webchat", code: waiting.code }],
        ["pairing.deny", { channelType: "webchat", code: waiting.code }],
        ["pairing.revoke", { channelType: "webchat", channelId: paired.id }],
      ];
      for (const [i, [method, params]] of ws.entries()) {
        expect((await user.request(`u${i}`, method, params)).error.code).toBe("forbidden");
        // A paired webchat device never holds owner rights, whatever it sends.
        expect((await paired.socket.request(`d${i}`, method, params)).error.code).toBe("forbidden");
      }
      const pending = (await gw.api("GET", "/api/pairing/pending", { token: OWNER_TOKEN })).body.pending as Array<{
        code: string;
      }>;
      expect(pending.map((p) => p.code)).toEqual([waiting.code]);
      const list = (await gw.api("GET", "/api/pairing/paired", { token: OWNER_TOKEN })).body.paired as Array<{
        channelId: string;
      }>;
      expect(list.map((p) => p.channelId)).toEqual([paired.id]);
    },
  );

  it("chat buttons: a non-owner, another chat and another owner's token are refused; every press is answered once", async () => {
    const gw = later(await startChatGateway({ policy: { ownerUserIds: [`${CHAT}:owner-2`] } }));
    await gw.adapter.deliver("stranger", "hello");
    await until(() => gw.adapter.cards.length >= 2, "owner cards", 5_000);
    const card = gw.adapter.cards.find((c) => c.ownerId === CHAT_OWNER)!.request;
    const presses: Array<[string, string, string, string | undefined]> = [
      ["non-owner in own DM", card.approveToken, "eve", undefined],
      ["owner from a group chat", card.approveToken, CHAT_OWNER, "group-1"],
      ["another owner pressing owner-1's card", card.approveToken, "owner-2", undefined],
      ["non-owner deny", card.denyToken, "eve", undefined],
    ];
    for (const [what, token, by, chat] of presses) {
      const result = await gw.adapter.press(token, by, chat);
      expect(result.answers, what).toHaveLength(1);
      expect(result.answers[0]!.text, what).toMatch(/only the owner|own direct chat|not valid/i);
    }
    expect(await gw.gateway.context.pairing.isPaired("stranger", CHAT)).toBe(false);
    expect((await gw.gateway.context.pairing.listPending(CHAT)).length).toBe(1);
    const ok = await gw.adapter.press(card.approveToken, CHAT_OWNER);
    expect(ok.answers).toHaveLength(1);
    expect(await gw.gateway.context.pairing.isPaired("stranger", CHAT)).toBe(true);
    const replay = await gw.adapter.press(card.approveToken, CHAT_OWNER);
    expect(replay.answers).toEqual([{ text: expect.stringMatching(/already handled/i), removeButtons: true }]);
  });

  it("CLI: someone without the gateway secret (another data dir) cannot approve a request on the store", async () => {
    const ws = cliWorkspace();
    cleanups.push(() => ws.cleanup());
    const stores = await ws.open();
    cleanups.push(() => stores.close());
    const code = await stores.pairing.generateCode("telegram", "victim");
    const other = tempDir();
    const run = await runGatehouse(["pairing", "approve", "telegram", code, "--store", ws.store, "--data-dir", other]);
    expect(run.code).not.toBe(0);
    // The store keeps a fingerprint of its secret: another secret is refused before any approval is tried.
    expect(run.stderr).toMatch(/first opened with another gateway secret/);
    expect(await stores.pairing.isPaired("victim", "telegram")).toBe(false);
    const owner = await runGatehouse(["pairing", "approve", "telegram", code, ...ws.args]);
    expect(owner.code).toBe(0);
    expect(await stores.pairing.isPaired("victim", "telegram")).toBe(true);
  });
});

describe("rule: roles come from the auth backend, never from the client", () => {
  it("role headers and connect params are ignored", async () => {
    const gw = later(await startGateway());
    const waiting = await pendingDevice(gw);
    const claimed = {
      "x-role": "owner",
      "x-gatehouse-role": "owner",
      "x-user-role": "admin",
      "x-auth-request-user": "alice",
      "x-user-id": "alice",
    };
    const http = await gw.api("POST", "/api/pairing/approve", {
      token: USER_TOKEN,
      headers: claimed,
      body: { channelType: "webchat", code: waiting.code },
    });
    expect(http.status).toBe(403);
    expect((await gw.api("GET", "/api/pairing/pending", { headers: claimed })).status).toBe(401);

    const declared = [
      { role: "owner" },
      { role: "admin", userId: "alice" },
      { principal: { userId: "alice", role: "owner" } },
      { scopes: ["admin"] },
    ];
    for (const [i, extra] of declared.entries()) {
      const { socket, hello } = await connectWithToken(gw.wsUrl, USER_TOKEN, extra);
      closing(socket);
      expect(hello.principal, JSON.stringify(extra)).toEqual({ userId: "bob", role: "user" });
      expect(
        (await socket.request(i, "pairing.approve", { channelType: "webchat", code: waiting.code })).error.code,
      ).toBe("forbidden");
    }
    // A webchat device declaring a role is still just a waiting device.
    const device = closing(await TestSocket.open(gw.wsUrl));
    device.send({ type: "connect", params: { deviceId: deviceId("bold"), role: "owner", userId: "alice" } });
    expect((await device.next((f) => f.type === "pairing" || f.type === "hello")).type).toBe("pairing");
    expect((await gw.api("GET", "/api/pairing/pending", { token: OWNER_TOKEN })).body.pending).toHaveLength(2);
  });
});

describe("rule: no secret, no silent open mode; loopback bind by default", () => {
  it.each(["", "   ", "undefined", "changeme", "null", "secret", "short-secret"])(
    "GATEHOUSE_SECRET=%j is refused",
    (value) => {
      expect(() => loadGatewaySecret(tempDir(), { GATEHOUSE_SECRET: value })).toThrow(/GATEHOUSE_SECRET/);
    },
  );

  it("a short secret option is refused; without a secret one is created (0600) and the API still needs a token", async () => {
    expect(() => createGateway({ secret: Buffer.alloc(16, 1) })).toThrow(/secret/);
    const dir = tempDir();
    const gateway = createGateway({
      store: `sqlite:${join(dir, "gh.db")}`,
      dataDir: dir,
      http: { port: 0 },
      logger: captureLogger(),
    });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(join(dir, "secret")).mode & 0o777).toBe(0o600);
    for (const path of ["/api/pairing/pending", "/api/pairing/paired", "/api/audit"]) {
      expect((await fetch(`${gateway.url}${path}`)).status).toBe(401);
    }
    expect(
      (await fetch(`${gateway.url}/api/pairing/paired`, { headers: { authorization: "Bearer undefined" } })).status,
    ).toBe(401);
  });
});

describe("rule: local owner trust does not depend on what a proxy adds", () => {
  it("a same-host reverse proxy without forwarding headers makes nobody owner; the 0600 Unix socket is the local owner", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-local-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const socketPath = join(dir, "gatehouse.sock");
    const gw = later(await startGateway({ auth: localSocketAuth(), http: { localSocket: socketPath } }));
    const proxy = await startSameHostProxy(gw.url);
    cleanups.push(() => proxy.close());
    const invite = { body: { channelType: "telegram" } };
    // A remote client through the proxy arrives from 127.0.0.1 with no forwarding header: not the owner.
    expect((await jsonRequest({ base: proxy.url }, "GET", "/api/pairing/pending")).status).toBe(401);
    expect((await jsonRequest({ base: proxy.url }, "POST", "/api/pairing/invites", invite)).status).toBe(401);
    // Nor is a plain loopback TCP client, with or without loopback-looking headers.
    expect((await jsonRequest({ base: gw.url }, "GET", "/api/pairing/pending")).status).toBe(401);
    const statuses: Record<string, number> = {};
    for (const header of FORWARDING_HEADERS) {
      const value = header === "via" ? "1.1 proxy" : "127.0.0.1";
      statuses[header] = (
        await jsonRequest({ base: gw.url }, "GET", "/api/pairing/pending", { headers: { [header]: value } })
      ).status;
    }
    expect(
      Object.values(statuses).every((s) => s === 401),
      JSON.stringify(statuses),
    ).toBe(true);
    // The Unix socket is the local owner; its file mode is the credential.
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect((await jsonRequest({ socketPath }, "GET", "/api/pairing/pending")).status).toBe(200);
    const created = await jsonRequest({ socketPath }, "POST", "/api/pairing/invites", invite);
    expect(created.status).toBe(201);
    expect(created.body.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    // A proxy pointed at the socket, or a page relayed through one, still carries its headers: refused.
    expect(
      (
        await jsonRequest({ socketPath }, "GET", "/api/pairing/pending", {
          headers: { "x-forwarded-for": "203.0.113.9" },
        })
      ).status,
    ).toBe(401);
    expect(
      (await jsonRequest({ socketPath }, "GET", "/api/pairing/pending", { headers: { origin: gw.url } })).status,
    ).toBe(401);
  });

  it("trusted-proxy identity headers from a peer that is not a listed proxy are refused", async () => {
    const gw = later(
      await startGateway({
        auth: trustedProxyAuth({ proxies: ["10.0.0.1"], userHeader: "x-auth-request-user", role: "owner" }),
      }),
    );
    expect(
      await rawGet(`${gw.url}/api/pairing/paired`, { "x-auth-request-user": "alice", "x-forwarded-for": "10.0.0.1" }),
    ).toBe(401);
  });
});

describe("rule: identity headers from a trusted proxy are read raw; a repeated or comma-joined one is refused", () => {
  it("two x-user headers (mallory, owner) over real HTTP and WebSocket are refused, never joined into one user", async () => {
    const gw = later(
      await startGateway({ auth: trustedProxyAuth({ proxies: ["127.0.0.1"], userHeader: "x-user", role: "owner" }) }),
    );
    const whoami = (headers: Record<string, string | string[]>) =>
      rawHeaderStatus(gw.url, "/api/pairing/paired", headers);
    expect(await whoami({ "x-user": "alice" })).toBe(200);
    // node:http sends an array as the same header twice, exactly as a client in front of a proxy that appends would.
    expect(await whoami({ "x-user": ["mallory", "owner"] })).toBe(401);
    expect(await whoami({ "x-user": "mallory, owner" })).toBe(401);
    for (const header of [["mallory", "owner"], "mallory, owner"]) {
      // ws passes headers to node:http, which sends an array as the header repeated (ws types only say string).
      const socket = closing(
        await TestSocket.open(gw.wsUrl, { headers: { "x-user": header } as Record<string, string> }),
      );
      socket.send({ type: "connect", params: { token: "none" } });
      const closed = await socket.closed;
      expect(closed.code, JSON.stringify(header)).toBe(4401);
    }
    const alice = closing(await TestSocket.open(gw.wsUrl, { headers: { "x-user": "alice" } }));
    alice.send({ type: "connect", params: { token: "none" } });
    expect((await alice.nextOfType("hello")).principal).toEqual({ userId: "alice", role: "owner" });
  });
});

describe("rule: addresses are normalised before any rate-limit key", () => {
  it.each([
    "1.2.3.4",
    "::ffff:1.2.3.4",
    "::FFFF:1.2.3.4",
    "::ffff:102:304",
    "0:0:0:0:0:ffff:1.2.3.4",
    "[::ffff:1.2.3.4]",
  ])("%s shares the bucket of 1.2.3.4", (spelling) => {
    const buckets = new KeyedBuckets({ capacity: 1, refillPerSecond: 0.001 });
    expect(buckets.get(normalizeAddress("1.2.3.4")).take()).toBe(true);
    expect(normalizeAddress(spelling)).toBe("1.2.3.4");
    expect(buckets.get(normalizeAddress(spelling)).take()).toBe(false);
  });
});

describe("rule: guess limits live in the store (shared by instances, surviving restarts)", () => {
  it("redeemer lockout and per-code invalidation across two instances on one SQLite file and after a restart", async () => {
    const shared = sharedSqlite();
    cleanups.push(() => shared.cleanup());
    const open = () => openStores(shared.url, { secret: SECRET });
    const a = await open();
    const b = await open();
    const wrong = ["AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"];
    const results: boolean[] = [];
    for (const [i, code] of wrong.entries())
      results.push(await (i % 2 ? b : a).pairing.approve(CHAT, code, "mallory", "", { inviteOnly: true }));
    expect(results.every((r) => !r)).toBe(true);
    const invite = await a.pairing.generateCode(CHAT);
    expect(await b.pairing.approve(CHAT, invite, "mallory", "", { inviteOnly: true })).toBe(false);
    // The request code of a victim, guessed wrongly five times by others: invalidated for everyone.
    const victimCode = await a.pairing.generateCode(CHAT, "victim");
    for (let i = 0; i < 5; i++) await (i % 2 ? a : b).pairing.approve(CHAT, victimCode, `guesser-${i}`);
    await a.close();
    await b.close();
    const restarted: Stores = await open();
    cleanups.push(() => restarted.close());
    expect(await restarted.pairing.approve(CHAT, invite, "mallory", "", { inviteOnly: true })).toBe(false);
    expect(await restarted.pairing.approve(CHAT, victimCode)).toBe(false);
    // A legitimate user on the same channel type is not locked out.
    expect(await restarted.pairing.approve(CHAT, invite, "carol", "", { inviteOnly: true })).toBe(true);
  });
});

describe("rule: session ids are minted by the server; approval gives a fresh one", () => {
  it("a client-chosen id or another principal's id is never accepted", async () => {
    const gw = later(await startGateway());
    const chosen = ["attacker-chosen-session-id", "0", "a".repeat(256)];
    for (const sessionId of chosen) {
      const { socket, hello } = await connectWithToken(gw.wsUrl, USER_TOKEN, { sessionId });
      closing(socket);
      expect(hello.sessionId).not.toBe(sessionId);
      expect(Buffer.from(hello.sessionId as string, "base64url").length).toBeGreaterThanOrEqual(16);
    }
    const owner = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    closing(owner.socket);
    const hijack = await connectWithToken(gw.wsUrl, USER_TOKEN, { sessionId: owner.hello.sessionId });
    closing(hijack.socket);
    expect(hijack.hello.sessionId).not.toBe(owner.hello.sessionId);
    expect(hijack.hello.principal.role).toBe("user");

    const device = await pendingDevice(gw);
    await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code: device.code },
    });
    const hello = await device.socket.nextOfType("hello");
    expect(hello.sessionId).toMatch(/^[A-Za-z0-9_-]{22,}$/);
  });
});

describe("rule: revokes and token deletions take effect at once, on every instance", () => {
  it("a revoked webchat pairing closes its sockets on both gateways sharing one SQLite file", async () => {
    const shared = sharedSqlite();
    cleanups.push(() => shared.cleanup());
    const a = later(await startGateway({ storeKind: shared.kind }));
    const b = later(await startGateway({ storeKind: shared.kind }));
    const device = await pendingDevice(a);
    await b.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code: device.code },
    });
    await device.socket.nextOfType("hello");
    const onB = closing(await TestSocket.open(b.wsUrl));
    onB.send({ type: "connect", params: { deviceId: device.id } });
    await onB.nextOfType("hello");
    expect((await b.api("DELETE", `/api/pairing/paired/webchat/${device.id}`, { token: OWNER_TOKEN })).body).toEqual({
      revoked: true,
    });
    expect((await onB.closed).code).toBe(4403);
    expect((await device.socket.closed).code).toBe(4403);
    const again = closing(await TestSocket.open(a.wsUrl));
    again.send({ type: "connect", params: { deviceId: device.id } });
    expect((await again.next((f) => f.type === "pairing" || f.type === "hello")).type).toBe("pairing");
  });

  it("a deleted API token fails the next request and closes open sockets on both gateways", async () => {
    const shared = sharedSqlite();
    cleanups.push(() => shared.cleanup());
    const dir = tempDir();
    const admin = await openStores(shared.url, { secret: SECRET });
    cleanups.push(() => admin.close());
    const minted = await mintToken(admin.tokens!, { role: "owner", userId: "root" });
    const start = () =>
      startGateway({ storeKind: shared.kind, auth: undefined, dataDir: dir, websocket: { heartbeatMs: 150 } });
    const a = later(await start());
    const b = later(await start());
    const sockets = await Promise.all(
      [a, b].map(async (gw) => closing((await connectWithToken(gw.wsUrl, minted.token)).socket)),
    );
    for (const gw of [a, b])
      expect((await gw.api("GET", "/api/pairing/paired", { token: minted.token })).status).toBe(200);
    expect(await admin.tokens!.delete(minted.id)).toBe(true);
    for (const gw of [a, b])
      expect((await gw.api("GET", "/api/pairing/paired", { token: minted.token })).status).toBe(401);
    sockets[1]!.send({ type: "req", id: 1, method: "session.whoami" });
    const codes = await Promise.all(sockets.map((s) => s.closed));
    expect(codes.map((c) => c.code)).toEqual([4401, 4401]);
  });
});

describe("rule: button payloads fit 64-byte callback_data with the longest ids", () => {
  it("the longest channel type, code and owner id give callback_data of at most 64 bytes that still verifies", () => {
    const key = buttonKey(SECRET);
    const channelType = `a${"z".repeat(63)}`;
    const recipient = "\u{10FFFF}".repeat(128); // 256 UTF-16 units, 512 UTF-8 bytes: the longest id
    for (const action of ["approve", "deny"] as const) {
      const token = signButtonToken(key, {
        action,
        channelType,
        code: "ZZZZ-9999",
        recipient,
        expiresAt: 0xffff_fffe * 1000,
      });
      expect(Buffer.byteLength(token, "utf8")).toBeLessThanOrEqual(64);
      expect(verifyButtonToken(key, token, { channelType, pressedBy: recipient, now: Date.now() })).toMatchObject({
        ok: true,
        action,
        code: "ZZZZ9999",
      });
    }
  });

  it("cards sent by a real router for a sender with a 256-character id carry tokens of at most 64 bytes", async () => {
    const gw = later(await startChatGateway());
    await gw.adapter.deliver("s".repeat(256), "hi");
    await until(() => gw.adapter.cards.length === 1, "owner card", 5_000);
    const { approveToken, denyToken } = gw.adapter.cards[0]!.request;
    expect([approveToken, denyToken].map((t) => Buffer.byteLength(t))).toEqual([38, 38]);
  });
});

describe("rule: constant-time comparison, length mismatch is false", () => {
  it.each([
    ["", "x"],
    ["short", "much longer value"],
    [Buffer.alloc(0), Buffer.alloc(64)],
    ["same", "same"],
  ])("safeEqual(%j, %j)", (a, b) => {
    expect(() => safeEqual(a, b)).not.toThrow();
    expect(safeEqual(a, b)).toBe(String(a) === String(b) && Buffer.from(a).length === Buffer.from(b).length);
  });
});

describe("rule: browsers get no ambient credential (Origin/Host/content type)", () => {
  it.each([
    ["foreign Origin", { origin: "http://evil.example" }, 403],
    ["null Origin", { origin: "null" }, 403],
    ["rebinding Host", { host: "evil.example" }, 403],
    ["text/plain body", { "content-type": "text/plain" }, 415],
  ] as const)("%s with the owner's token is refused", async (_what, headers, status) => {
    const gw = later(await startGateway());
    const device = await pendingDevice(gw);
    const body = JSON.stringify({ channelType: "webchat", code: device.code });
    const response = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${gw.url}/api/pairing/approve`,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${OWNER_TOKEN}`,
            "content-type": "application/json",
            ...headers,
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(response).toBe(status);
    expect((await gw.api("GET", "/api/pairing/pending", { token: OWNER_TOKEN })).body.pending).toHaveLength(1);
  });
});

describe("rule: a corrupt store stops the gateway and is never overwritten", () => {
  it("start() rejects on a garbage SQLite file and leaves the bytes alone", async () => {
    const dir = tempDir();
    const file = join(dir, "gh.db");
    const garbage = Buffer.concat([Buffer.from("this is not a database "), Buffer.alloc(8192, 0x5a)]);
    writeFileSync(file, garbage);
    const gateway = createGateway({
      store: `sqlite:${file}`,
      secret: SECRET,
      dataDir: dir,
      http: { port: 0 },
      logger: captureLogger(),
    });
    await expect(gateway.start()).rejects.toThrow();
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });
});

describe("rule: deny is a recorded decision and the requester is told", () => {
  it("a denied device is told, its socket closed, nothing paired and the audit log has the decision", async () => {
    const gw = later(await startGateway({ storeKind: STORE_KINDS[1] }));
    const device = await pendingDevice(gw);
    expect(
      (
        await gw.api("POST", "/api/pairing/deny", {
          token: OWNER_TOKEN,
          body: { channelType: "webchat", code: device.code },
        })
      ).body,
    ).toEqual({ denied: true });
    expect((await device.socket.nextOfType("error")).error.message).toMatch(/denied/);
    expect((await device.socket.closed).code).toBe(4403);
    expect(await gw.gateway.context.pairing.isPaired(device.id, "webchat")).toBe(false);
    const audit = (await gw.api("GET", "/api/audit", { token: OWNER_TOKEN })).body.events as Array<{
      type: string;
      channelId: string;
    }>;
    expect(audit.filter((e) => e.type === "denied").map((e) => e.channelId)).toEqual([device.id]);
  });
});

describe("rule: no secret, token or code in logs", () => {
  it("a session of approvals, refusals, bad tokens and invites logs none of them", async () => {
    const gw: ChatGateway = later(await startChatGateway({ storeKind: STORE_KINDS[1] }));
    const device = await pendingDevice(gw);
    await gw.api("POST", "/api/pairing/approve", {
      token: USER_TOKEN,
      body: { channelType: "webchat", code: device.code },
    });
    await gw.api("POST", "/api/pairing/approve", {
      token: "gh_" + "x".repeat(43),
      body: { channelType: "webchat", code: device.code },
    });
    const invite = (await gw.api("POST", "/api/pairing/invites", { token: OWNER_TOKEN, body: { channelType: CHAT } }))
      .body.code as string;
    await gw.adapter.deliver("mallory", "/pair ZZZZ-ZZZZ");
    await gw.adapter.deliver("carol", `/pair ${invite}`);
    await gw.adapter.deliver("stranger", "let me in");
    // The device's request reaches the chat owner as a card too; the stranger's is the one pressed here.
    const card = await until(
      () => gw.adapter.cards.find((sent) => sent.request.senderId === "stranger")?.request,
      "the stranger's card",
      5_000,
    );
    await gw.adapter.press(card.approveToken, "eve");
    await gw.adapter.press(card.denyToken, CHAT_OWNER, "group");
    await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code: device.code },
    });
    const bad = closing(await TestSocket.open(gw.wsUrl));
    bad.send({ type: "connect", params: { token: "gh_" + "y".repeat(43) } });
    await bad.closed;
    await gw.stop();
    const needles = [
      OWNER_TOKEN,
      USER_TOKEN,
      "gh_" + "x".repeat(43),
      "gh_" + "y".repeat(43),
      SECRET.toString("hex"),
      SECRET.toString("base64"),
      SECRET.toString("base64url"),
      device.code,
      device.code.replace("-", ""),
      invite,
      invite.replace("-", ""),
      card.code,
      card.code.replace("-", ""),
      ...gw.adapter.cards.flatMap(({ request }) => [
        request.code,
        request.code.replace("-", ""),
        request.approveToken,
        request.denyToken,
      ]),
    ];
    expect(gw.logger.lines.length).toBeGreaterThan(0);
    expect(leaks(gw.logger.lines, needles)).toEqual([]);
  });
});
