/**
 * Issue 15 item 1: console sessions live in the shared store. Sign in through instance A, use the console (HTTP and a
 * WebSocket ticket) through B, sign out through B: the session ends on A too, and the owner socket A opened from it
 * closes (the store's feed carries the sign-out). Two gateways on one SQLite file, Redis, PostgreSQL and MariaDB.
 */
import { afterEach, describe, expect, it } from "vitest";
import { mintToken } from "../src/auth/token.js";
import { createGateway } from "../src/gateway/index.js";
import { openStores } from "../src/stores/open.js";
import { closedWithin, consoleLogin, withCookie } from "./console-helpers.js";
import { captureLogger, SECRET, TestSocket, type TestGateway } from "./gateway-helpers.js";
import { backendsOfThisFile } from "./support/backends.js";

/** Much shorter than the 30 s heartbeat: a socket closed this fast was closed by the sign-out, not by a re-check. */
const CLOSE_WITHIN_MS = 5_000;

const backends = await backendsOfThisFile();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Instance = Pick<TestGateway, "url" | "wsUrl">;

async function startInstance(store: string): Promise<Instance> {
  const gateway = createGateway({ store, secret: SECRET, logger: captureLogger(), http: { port: 0 } });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  return { url: gateway.url, wsUrl: `${gateway.url.replace(/^http/, "ws")}/ws` };
}

async function ownerToken(store: string): Promise<string> {
  const stores = await openStores(store, { secret: SECRET });
  try {
    return (await mintToken(stores.tokens!, { role: "owner", userId: "olivia", label: "console" })).token;
  } finally {
    await stores.close();
  }
}

/** A ticket from `from` (as the page asks for one), used to open an owner socket at `at`. */
async function ticketFrom(from: Instance, cookie: string, csrf: string): Promise<string> {
  const issued = await withCookie(from as TestGateway, "POST", "/console/ws-ticket", cookie, {
    headers: { origin: from.url, "x-gatehouse-csrf": csrf },
  });
  expect(issued.status).toBe(200);
  return issued.body.ticket as string;
}

async function openWith(at: Instance, ticket: string): Promise<{ socket: TestSocket; first: Record<string, any> }> {
  const socket = await TestSocket.open(at.wsUrl, { headers: { origin: at.url } });
  cleanups.push(() => socket.close());
  socket.send({ type: "connect", params: { token: ticket } });
  const first = await socket.next((f) => f.type === "hello" || f.type === "error", 10_000);
  return { socket, first };
}

describe.each(backends.filter((b) => b.shared))("console sessions shared by two gateways on $name", (backend) => {
  it.skipIf(!backend.available)(
    "sign in through A, use through B, sign out through B: the session and A's socket end",
    async () => {
      const store = backend.freshUrl();
      const token = await ownerToken(store);
      const a = await startInstance(store);
      const b = await startInstance(store);

      const login = await consoleLogin(a as TestGateway, token);
      expect(login.status).toBe(200);
      const { cookie } = login;
      const csrf = login.body.csrf as string;

      // B knows the session A created: same principal and CSRF value, and the admin API accepts the cookie.
      const onB = await withCookie(b as TestGateway, "GET", "/console/session", cookie);
      expect(onB.status).toBe(200);
      expect(onB.body.principal).toEqual({ userId: "olivia", role: "owner" });
      expect(onB.body.csrf).toBe(csrf);
      expect((await withCookie(b as TestGateway, "GET", "/api/pairing/paired", cookie)).status).toBe(200);

      // A ticket issued by B opens an owner socket on A, once: the same ticket is refused on B afterwards.
      const ticket = await ticketFrom(b, cookie, csrf);
      const onA = await openWith(a, ticket);
      expect(onA.first.type).toBe("hello");
      expect((await onA.socket.request("list", "pairing.list", {})).ok).toBe(true);
      const replayed = await openWith(b, ticket);
      expect(replayed.first.type).toBe("error");

      // Signing out through B ends the session on A, and closes the socket A opened from it.
      const out = await withCookie(b as TestGateway, "POST", "/console/logout", cookie, {
        headers: { origin: b.url, "x-gatehouse-csrf": csrf },
      });
      expect(out.status).toBe(200);
      expect(await closedWithin(onA.socket, CLOSE_WITHIN_MS)).toBe(4401);
      expect((await withCookie(a as TestGateway, "GET", "/console/session", cookie)).status).toBe(401);
      expect((await withCookie(b as TestGateway, "GET", "/console/session", cookie)).status).toBe(401);
    },
  );
});
