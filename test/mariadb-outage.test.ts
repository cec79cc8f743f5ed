import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../src/pairing/errors.js";
import { openMariaDbStores } from "../src/stores/mariadb/index.js";
import type { Stores } from "../src/stores/types.js";
import { MARIADB_URL, testPrefixes } from "./mariadb-helpers.js";
import { expectAllUnavailable, outcome } from "./support/outage.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const TIMEOUT_MS = 1000;
/** A hung call is one that has not answered long after its deadline: that is a failure, whatever the machine's speed. */
const HUNG_AFTER_MS = TIMEOUT_MS * 5;

const { available, base } = await testPrefixes("o", () => stores?.close());
let proxy: TcpProxy;
let stores: Stores;
const unexpected: unknown[] = [];
const onUnexpected = (error: unknown): void => {
  unexpected.push(error);
};

/** The test server's URL, reached through the proxy. */
function proxiedUrl(prefix: string): string {
  const url = new URL(MARIADB_URL);
  url.host = `127.0.0.1:${proxy.port}`;
  url.searchParams.set("prefix", prefix);
  return url.toString();
}

beforeAll(async () => {
  if (!available) return;
  process.on("uncaughtException", onUnexpected);
  process.on("unhandledRejection", onUnexpected);
  const target = new URL(MARIADB_URL);
  proxy = await TcpProxy.start(target.hostname, Number(target.port || 3306));
  stores = await openMariaDbStores(proxiedUrl(`${base}1_`), {
    secret: randomBytes(32),
    timeoutMs: TIMEOUT_MS,
    poolSize: 3,
  });
}, 60_000);

afterAll(async () => {
  await proxy?.down();
  process.off("uncaughtException", onUnexpected);
  process.off("unhandledRejection", onUnexpected);
});

async function expectUnavailable(): Promise<void> {
  const calls: Record<string, () => Promise<unknown>> = {
    isPaired: () => stores.pairing.isPaired("alice", "telegram"),
    generateCode: () => stores.pairing.generateCode("telegram", "mallory"),
    approve: () => stores.pairing.approve("telegram", "ABCD-EFGH"),
    listPending: () => stores.pairing.listPending(),
    audit: () => stores.pairing.audit(),
    health: () => stores.pairing.health(),
    lookup: () => stores.sessions.lookup("s1"),
    bind: () => stores.sessions.bind("s2", { userId: "x", role: "user" }),
    tokens: () => (stores.tokens ? stores.tokens.count() : Promise.resolve()),
  };
  await expectAllUnavailable("mariadb", calls, HUNG_AFTER_MS);
}

describe.runIf(available)("mariadb store: the server goes away and comes back", () => {
  it("fails closed within the deadline while hung or down, and recovers without a restart", async () => {
    const events: string[] = [];
    stores.pairing.subscribe((event) => events.push(`${event.type}:${event.channelId}`));
    const code = await stores.pairing.generateCode("telegram", "alice");
    expect(await stores.pairing.approve("telegram", code)).toBe(true);
    await stores.sessions.bind("s1", { userId: "alice", role: "user" });
    await expect.poll(() => events, { timeout: 5000 }).toEqual(["requested:alice", "approved:alice"]);

    // Hung: sockets open, nothing answers, so only the deadline can end a call.
    proxy.hang();
    try {
      await expectUnavailable();
    } finally {
      await proxy.up();
    }
    await expect
      .poll(
        () =>
          stores.pairing.health().then(
            () => "up",
            () => "down",
          ),
        { timeout: 15_000 },
      )
      .toBe("up");
    expect(await stores.pairing.isPaired("alice", "telegram")).toBe(true);
    expect(await stores.pairing.isPaired("mallory", "telegram")).toBe(false);
    expect(
      await stores.pairing.pendingFor("mallory", "telegram"),
      "a request made while hung appeared later",
    ).toBeNull();

    // Down: connections cut and refused.
    await proxy.down();
    await expectUnavailable();
    await proxy.up();
    await expect
      .poll(
        () =>
          stores.pairing.health().then(
            () => "up",
            () => "down",
          ),
        { timeout: 15_000 },
      )
      .toBe("up");
    await stores.sessions.health();
    // Nothing decided before the outage is lost, and the same store works again.
    expect(await stores.pairing.isPaired("alice", "telegram")).toBe(true);
    expect(await stores.sessions.lookup("s1")).toEqual({ userId: "alice", role: "user" });
    const again = await stores.pairing.generateCode("telegram", "bob");
    expect(await stores.pairing.approve("telegram", again)).toBe(true);
    await expect.poll(() => events.slice(2), { timeout: 15_000 }).toEqual(["requested:bob", "approved:bob"]);
    expect(unexpected).toEqual([]);
  }, 90_000);

  it("opening a store on a server that is down rejects with StoreUnavailableError", async () => {
    await proxy.down();
    try {
      const result = await outcome(
        () => openMariaDbStores(proxiedUrl(`${base}2_`), { secret: randomBytes(32), timeoutMs: TIMEOUT_MS }),
        HUNG_AFTER_MS,
      );
      expect(result).toBeInstanceOf(StoreUnavailableError);
    } finally {
      await proxy.up();
    }
    expect(unexpected).toEqual([]);
  }, 60_000);
});
