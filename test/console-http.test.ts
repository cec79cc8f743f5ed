import { request as httpRequest } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chainAuth, localSocketAuth } from "../src/auth/index.js";
import { CONSOLE_COOKIE, TICKET_PREFIX } from "../src/gateway/console/index.js";
import { buildConsoleForTest, consoleLogin, withCookie } from "./console-helpers.js";
import {
  ADMIN_TOKEN,
  deviceId,
  fixedTokenAuth,
  OWNER_TOKEN,
  startGateway,
  TestSocket,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";

let built: Awaited<ReturnType<typeof buildConsoleForTest>>;
let gw: TestGateway | undefined;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  built = await buildConsoleForTest();
});
afterAll(() => built.cleanup());
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await gw?.stop();
  gw = undefined;
});

async function start(options: Parameters<typeof startGateway>[0] = {}): Promise<TestGateway> {
  gw = await startGateway({ consoleDir: built.dir, ...options });
  return gw;
}

/** A webchat sender asking for access; resolves with its socket and pairing code. */
async function pendingSender(g: TestGateway): Promise<{ socket: TestSocket; code: string; device: string }> {
  const socket = await TestSocket.open(g.wsUrl);
  sockets.push(socket);
  const device = deviceId("console");
  socket.send({ type: "connect", params: { deviceId: device, name: "Zoe" } });
  const pairing = await socket.nextOfType("pairing");
  return { socket, code: pairing.code, device };
}

function rawPost(g: TestGateway, path: string, headers: Record<string, string>, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${g.url}${path}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) },
    });
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end(payload);
  });
}

describe("console sign-in", () => {
  it("sets a signed HttpOnly SameSite=Strict Path=/ session cookie and answers with the CSRF value, never the token", async () => {
    const g = await start();
    const login = await consoleLogin(g, OWNER_TOKEN);
    expect(login.status).toBe(200);
    expect(login.body.principal).toEqual({ userId: "alice", role: "owner" });
    expect(login.body.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const attributes = login.setCookie!.split(";").map((part) => part.trim().toLowerCase());
    expect(attributes).toContain("httponly");
    expect(attributes).toContain("samesite=strict");
    expect(attributes).toContain("path=/");
    expect(login.cookie.startsWith(`${CONSOLE_COOKIE}=`)).toBe(true);
    expect(login.setCookie).not.toContain(OWNER_TOKEN);
    expect(JSON.stringify(login.body)).not.toContain(OWNER_TOKEN);
    const session = await withCookie(g, "GET", "/console/session", login.cookie);
    // The page learns the channel types this gateway runs (here only webchat) instead of carrying a list of its own.
    expect(session).toEqual({
      status: 200,
      body: { principal: { userId: "alice", role: "owner" }, csrf: login.body.csrf, channelTypes: ["webchat"] },
    });
  });

  it("an admin token signs in too", async () => {
    const g = await start();
    const login = await consoleLogin(g, ADMIN_TOKEN);
    expect(login.status).toBe(200);
    expect(login.body.principal.role).toBe("admin");
  });

  it("refuses a wrong token, a non-owner token, a missing token and a cross-origin sign-in, and sets no cookie", async () => {
    const g = await start();
    const wrong = await consoleLogin(g, "owner-token-but-wrong-0123456789");
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("unauthenticated");
    const user = await consoleLogin(g, USER_TOKEN);
    expect(user.status).toBe(403);
    expect(user.body.error.message).toMatch(/owner or admin/);
    const missing = await consoleLogin(g, "");
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/^token/);
    const wrongType = await consoleLogin(g, 42);
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.field).toBe("token");
    const crossOrigin = await consoleLogin(g, OWNER_TOKEN, { origin: "http://evil.example" });
    expect(crossOrigin.status).toBe(403);
    const crossSite = await consoleLogin(g, OWNER_TOKEN, { "sec-fetch-site": "cross-site" });
    expect(crossSite.status).toBe(403);
    for (const attempt of [wrong, user, missing, wrongType, crossOrigin, crossSite])
      expect(attempt.setCookie).toBeNull();
  });

  it("only the token vouches at sign-in: local owner trust in the auth chain never signs a wrong token in", async () => {
    const g = await start({ auth: chainAuth(localSocketAuth(), fixedTokenAuth()) });
    const withoutBrowserHeaders = await fetch(`${g.url}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "not-a-real-token-0123456789" }),
    });
    // A POST without Origin is not a browser sign-in; with one, only the token counts.
    expect(withoutBrowserHeaders.status).toBe(403);
    const wrong = await consoleLogin(g, "not-a-real-token-0123456789");
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toBeNull();
    expect((await consoleLogin(g, OWNER_TOKEN)).status).toBe(200);
  });

  it("limits sign-in attempts per address", async () => {
    const g = await start();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) statuses.push((await consoleLogin(g, `wrong-token-${i}-0123456789abcdef`)).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});

describe("console cookie on the admin API", () => {
  it("reads with the cookie alone", async () => {
    const g = await start();
    const { code } = await pendingSender(g);
    const login = await consoleLogin(g, OWNER_TOKEN);
    const pending = await withCookie(g, "GET", "/api/pairing/pending", login.cookie);
    expect(pending.status).toBe(200);
    expect(pending.body.pending.map((p: { code: string }) => p.code)).toEqual([code]);
  });

  it("refuses a state change without the CSRF header, with a wrong one, without an Origin or from another origin, changing nothing", async () => {
    const g = await start();
    const { code } = await pendingSender(g);
    const login = await consoleLogin(g, OWNER_TOKEN);
    const body = { channelType: "webchat", code };
    const attempts: Record<string, string>[] = [
      { origin: g.url },
      { origin: g.url, "x-gatehouse-csrf": "wrong-value" },
      { "x-gatehouse-csrf": login.body.csrf },
      { origin: "http://evil.example", "x-gatehouse-csrf": login.body.csrf },
      { origin: "http://127.0.0.1:1", "x-gatehouse-csrf": login.body.csrf },
      { origin: g.url, "x-gatehouse-csrf": login.body.csrf, "sec-fetch-site": "same-site" },
    ];
    for (const headers of attempts) {
      const result = await withCookie(g, "POST", "/api/pairing/approve", login.cookie, { headers, body });
      expect([401, 403], JSON.stringify(headers)).toContain(result.status);
    }
    // A DNS-rebinding page reaches the gateway under a foreign Host (fetch cannot set Host, so use node:http).
    const rebound = await rawPost(
      g,
      "/api/pairing/approve",
      {
        cookie: login.cookie,
        host: "evil.example",
        origin: "http://evil.example",
        "x-gatehouse-csrf": login.body.csrf,
      },
      body,
    );
    expect([401, 403]).toContain(rebound);
    const stillPending = await g.gateway.context.pairing.listPending("webchat");
    expect(stillPending.map((p) => p.code)).toEqual([code]);
    const ok = await withCookie(g, "POST", "/api/pairing/approve", login.cookie, {
      headers: { origin: g.url, "x-gatehouse-csrf": login.body.csrf },
      body,
    });
    expect(ok).toEqual({ status: 200, body: { approved: true } });
  });

  it("a forged or tampered cookie is no session", async () => {
    const g = await start();
    const login = await consoleLogin(g, OWNER_TOKEN);
    const value = login.cookie.slice(CONSOLE_COOKIE.length + 1);
    const [id] = value.split(".");
    for (const cookie of [
      `${CONSOLE_COOKIE}=${id}`,
      `${CONSOLE_COOKIE}=${id}.AAAA${value.slice(-40)}`,
      `${CONSOLE_COOKIE}=x${value}`,
    ]) {
      expect((await withCookie(g, "GET", "/api/pairing/pending", cookie)).status).toBe(401);
      expect((await withCookie(g, "GET", "/console/session", cookie)).status).toBe(401);
    }
  });

  it("the session ends when its token stops working (deleted token, next request)", async () => {
    const tokens = { [OWNER_TOKEN]: { userId: "alice", role: "owner" } } as Record<
      string,
      { userId: string; role: string }
    >;
    const g = await start({ auth: fixedTokenAuth(tokens) });
    const login = await consoleLogin(g, OWNER_TOKEN);
    expect((await withCookie(g, "GET", "/api/pairing/paired", login.cookie)).status).toBe(200);
    delete tokens[OWNER_TOKEN];
    expect((await withCookie(g, "GET", "/api/pairing/paired", login.cookie)).status).toBe(401);
    tokens[OWNER_TOKEN] = { userId: "alice", role: "owner" };
    expect((await withCookie(g, "GET", "/console/session", login.cookie)).status).toBe(401);
  });

  it("sign-out ends the server-side session and clears the cookie", async () => {
    const g = await start();
    const login = await consoleLogin(g, OWNER_TOKEN);
    const refused = await withCookie(g, "POST", "/console/logout", login.cookie, {
      headers: { origin: "http://evil.example", "x-gatehouse-csrf": login.body.csrf },
    });
    expect(refused.status).toBe(403);
    expect((await withCookie(g, "GET", "/console/session", login.cookie)).status).toBe(200);
    const response = await fetch(`${g.url}/console/logout`, {
      method: "POST",
      headers: { cookie: login.cookie, origin: g.url, "x-gatehouse-csrf": login.body.csrf },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toMatch(new RegExp(`^${CONSOLE_COOKIE}=;`));
    expect((await withCookie(g, "GET", "/console/session", login.cookie)).status).toBe(401);
    expect((await withCookie(g, "GET", "/api/pairing/pending", login.cookie)).status).toBe(401);
  });
});

describe("console WebSocket tickets", () => {
  async function ticket(
    g: TestGateway,
    cookie: string,
    csrf: string | undefined,
  ): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { origin: g.url };
    if (csrf !== undefined) headers["x-gatehouse-csrf"] = csrf;
    return withCookie(g, "POST", "/console/ws-ticket", cookie, { headers });
  }

  it("a ticket opens one owner socket that receives pairing events; it cannot be used twice", async () => {
    const g = await start();
    const login = await consoleLogin(g, OWNER_TOKEN);
    expect((await ticket(g, login.cookie, undefined)).status).toBe(403);
    const issued = await ticket(g, login.cookie, login.body.csrf);
    expect(issued.status).toBe(200);
    expect(issued.body.ticket.startsWith(TICKET_PREFIX)).toBe(true);
    const owner = await TestSocket.open(g.wsUrl, { headers: { origin: g.url } });
    sockets.push(owner);
    owner.send({ type: "connect", params: { token: issued.body.ticket } });
    const hello = await owner.nextOfType("hello");
    expect(hello.principal).toEqual({ userId: "alice", role: "owner" });
    const { code } = await pendingSender(g);
    const event = await owner.next((f) => f.type === "event" && f.event === "pairing.requested");
    expect(event.payload.channelType).toBe("webchat");
    const approved = await owner.request("a", "pairing.approve", { channelType: "webchat", code });
    expect(approved.ok).toBe(true);

    const again = await TestSocket.open(g.wsUrl);
    sockets.push(again);
    again.send({ type: "connect", params: { token: issued.body.ticket } });
    expect((await again.nextOfType("error")).error.code).toBe("unauthenticated");
    expect((await again.closed).code).toBe(4401);
  });

  it("a ticket of a signed-out session is refused", async () => {
    const g = await start();
    const login = await consoleLogin(g, OWNER_TOKEN);
    const issued = await ticket(g, login.cookie, login.body.csrf);
    await withCookie(g, "POST", "/console/logout", login.cookie, {
      headers: { origin: g.url, "x-gatehouse-csrf": login.body.csrf },
    });
    const socket = await TestSocket.open(g.wsUrl);
    sockets.push(socket);
    socket.send({ type: "connect", params: { token: issued.body.ticket } });
    expect((await socket.closed).code).toBe(4401);
  });

  it("the console cookie alone never makes a WebSocket an owner socket", async () => {
    const g = await start();
    const login = await consoleLogin(g, OWNER_TOKEN);
    const socket = await TestSocket.open(g.wsUrl, { headers: { cookie: login.cookie, origin: g.url } });
    sockets.push(socket);
    socket.send({ type: "connect", params: { deviceId: deviceId("cookie") } });
    expect((await socket.nextOfType("pairing")).code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const list = await socket.request("l", "pairing.list");
    expect(list.ok).toBe(false);
  });
});

describe("console page", () => {
  it("is served with a strict Content-Security-Policy, nosniff and no framing", async () => {
    const g = await start();
    const page = await fetch(`${g.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await page.text();
    expect(html).toContain('src="/console/app.js"');
    const script = await fetch(`${g.url}/console/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect((await script.text()).length).toBeGreaterThan(1000);
    const outside = await fetch(`${g.url}/console/%2e%2e/package.json`);
    expect(outside.status).toBe(404);
    await outside.text();
  });

  it("says clearly when the console has not been built", async () => {
    const g = await start({ consoleDir: `${built.dir}/missing` });
    const page = await fetch(`${g.url}/console/`);
    expect(page.status).toBe(503);
    expect((await page.json()).error.message).toMatch(/npm run build:web/);
  });

  it("never logs a token, a CSRF value, a cookie or a ticket", async () => {
    const g = await start();
    const login = await consoleLogin(g, OWNER_TOKEN);
    await consoleLogin(g, "owner-token-but-wrong-0123456789");
    await withCookie(g, "POST", "/api/pairing/invites", login.cookie, {
      headers: { origin: "http://evil.example" },
      body: { channelType: "x" },
    });
    await withCookie(g, "POST", "/api/pairing/invites", login.cookie, {
      headers: { origin: g.url },
      body: { channelType: "x" },
    });
    const issued = await withCookie(g, "POST", "/console/ws-ticket", login.cookie, {
      headers: { origin: g.url, "x-gatehouse-csrf": login.body.csrf },
    });
    const log = g.logger.lines.join("\n");
    expect(log).toContain("console sign-in");
    for (const secret of [
      OWNER_TOKEN,
      "owner-token-but-wrong",
      login.body.csrf,
      login.cookie.split("=")[1]!,
      issued.body.ticket,
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});
