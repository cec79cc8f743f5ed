/**
 * Issue 12 item 1: a console WebSocket (opened with a one-time ticket) dies with the credential behind it. Signing out
 * of the console closes it; deleting the API token the console signed in with closes it on every instance sharing the
 * store (the store's event feed carries the deletion); and every privileged call re-checks the credential first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mintToken } from "../src/auth/token.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import { closedWithin, consoleLogin, withCookie } from "./console-helpers.js";
import {
  captureLogger,
  fixedTokenAuth,
  OWNER_TOKEN,
  SECRET,
  startGateway,
  TestSocket,
  type TestGateway,
} from "./gateway-helpers.js";
import { postgresAvailable, schemaNames } from "./postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

/** Much shorter than the 30 s heartbeat: a socket closed this fast was closed by the event, not by a heartbeat re-check. */
const CLOSE_WITHIN_MS = 3_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Signs in to the console, takes a ticket and opens the owner socket with it, as the console page does. */
async function consoleSocket(
  base: { url: string; wsUrl: string },
  token: string,
): Promise<{ socket: TestSocket; cookie: string; csrf: string }> {
  const login = await consoleLogin(base as TestGateway, token);
  expect(login.status).toBe(200);
  const headers = { origin: base.url, "x-gatehouse-csrf": login.body.csrf as string };
  const issued = await withCookie(base as TestGateway, "POST", "/console/ws-ticket", login.cookie, { headers });
  expect(issued.status).toBe(200);
  const socket = await TestSocket.open(base.wsUrl, { headers: { origin: base.url } });
  cleanups.push(() => socket.close());
  socket.send({ type: "connect", params: { token: issued.body.ticket } });
  await socket.nextOfType("hello");
  expect((await socket.request("before", "pairing.list", {})).ok).toBe(true);
  return { socket, cookie: login.cookie, csrf: login.body.csrf };
}

describe("a console socket and its sign-in", () => {
  it("signing out of the console closes the owner socket opened from that session", async () => {
    const g = await startGateway();
    cleanups.push(() => g.stop());
    const { socket, cookie, csrf } = await consoleSocket(g, OWNER_TOKEN);
    const out = await withCookie(g, "POST", "/console/logout", cookie, {
      headers: { origin: g.url, "x-gatehouse-csrf": csrf },
    });
    expect(out.status).toBe(200);
    expect(await closedWithin(socket, CLOSE_WITHIN_MS)).toBe(4401);
  });

  it("another console session's sign-out leaves this one's socket open", async () => {
    const g = await startGateway();
    cleanups.push(() => g.stop());
    const mine = await consoleSocket(g, OWNER_TOKEN);
    const other = await consoleSocket(g, OWNER_TOKEN);
    await withCookie(g, "POST", "/console/logout", other.cookie, {
      headers: { origin: g.url, "x-gatehouse-csrf": other.csrf },
    });
    expect(await closedWithin(other.socket, CLOSE_WITHIN_MS)).toBe(4401);
    expect((await mine.socket.request("after", "pairing.list", {})).ok).toBe(true);
  });

  it("every privileged call re-checks the token behind the console session, even when nothing announces its removal", async () => {
    const tokens = { [OWNER_TOKEN]: { userId: "alice", role: "owner" } };
    const g = await startGateway({ auth: fixedTokenAuth(tokens) });
    cleanups.push(() => g.stop());
    const { socket } = await consoleSocket(g, OWNER_TOKEN);
    delete (tokens as Record<string, unknown>)[OWNER_TOKEN];
    socket.send({ type: "req", id: "after", method: "pairing.list", params: {} });
    const refused = await socket.next((f) => f.type === "error" || (f.type === "res" && f.id === "after"));
    expect(refused.ok).not.toBe(true);
    expect(refused.error.code).toBe("unauthenticated");
    expect(await closedWithin(socket, CLOSE_WITHIN_MS)).toBe(4401);
  });
});

interface Instance {
  gateway: Gateway;
  url: string;
  wsUrl: string;
}

async function startInstance(store: string): Promise<Instance> {
  const gateway = createGateway({ store, secret: SECRET, logger: captureLogger(), http: { port: 0 } });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  return { gateway, url: gateway.url, wsUrl: `${gateway.url.replace(/^http/, "ws")}/ws` };
}

/** Opens the shared store as the CLI does (`gatehouse token create|revoke`): a client of its own. */
async function cliStores(store: string): Promise<Stores & { tokens: NonNullable<Stores["tokens"]> }> {
  const stores = await openStores(store, { secret: SECRET });
  cleanups.push(() => stores.close());
  if (!stores.tokens) throw new Error("the store keeps no tokens");
  return stores as Stores & { tokens: NonNullable<Stores["tokens"]> };
}

/** Two gateways on one store: deleting the token closes console and token sockets opened with it on both. */
async function tokenRevokedEverywhere(store: string): Promise<void> {
  const cli = await cliStores(store);
  const minted = await mintToken(cli.tokens, { role: "owner", userId: "olivia", label: "console" });
  const kept = await mintToken(cli.tokens, { role: "owner", userId: "oscar", label: "other owner" });
  const a = await startInstance(store);
  const b = await startInstance(store);
  const onA = await consoleSocket(a, minted.token);
  const onB = await consoleSocket(b, minted.token);
  const plain = await TestSocket.open(b.wsUrl);
  cleanups.push(() => plain.close());
  plain.send({ type: "connect", params: { token: minted.token } });
  await plain.nextOfType("hello");
  const other = await consoleSocket(a, kept.token);

  expect(await cli.tokens.delete(minted.id)).toBe(true);
  const codes = await Promise.all([
    closedWithin(onA.socket, CLOSE_WITHIN_MS),
    closedWithin(onB.socket, CLOSE_WITHIN_MS),
    closedWithin(plain, CLOSE_WITHIN_MS),
  ]);
  expect(codes).toEqual([4401, 4401, 4401]);
  expect((await other.socket.request("after", "pairing.list", {})).ok).toBe(true);
  const audit = await cli.pairing.audit({ type: "token-revoked" });
  expect(audit.events.map((e) => [e.type, e.channelId])).toEqual([["token-revoked", minted.id]]);
}

const redisUp = await requireRedis();
const postgresUp = await postgresAvailable();

describe("deleting the token behind a console session closes its sockets on every instance", () => {
  it("two gateways on one SQLite file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-console-ws-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await tokenRevokedEverywhere(`sqlite:${join(dir, "gatehouse.db")}`);
  });

  it.skipIf(!redisUp)("two gateways on one Redis", async () => {
    const prefix = uniquePrefix();
    cleanups.push(async () => void (await deleteKeys(prefix)));
    await tokenRevokedEverywhere(`${REDIS_URL}?prefix=${prefix}`);
  });

  it.skipIf(!postgresUp)("two gateways on one PostgreSQL schema", async () => {
    const schemas = schemaNames("console_ws_");
    cleanups.push(() => schemas.drop());
    await tokenRevokedEverywhere(schemas.nextUrl());
  });
});
