/**
 * One outage scenario for the SQL stores (PostgreSQL, MariaDB): the server hangs, then goes down, then comes back;
 * every kind of call fails closed within its deadline (StoreUnavailableError naming the store, never an answer, never a
 * hang), nothing decided before is lost, the same store works again without a restart and its subscription listens
 * again; opening a store while the server is down is refused the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../../src/pairing/errors.js";
import type { Stores } from "../../src/stores/types.js";
import { expectAllUnavailable, outcome } from "./outage.js";

/** The server behind the store under test, and what the scenario does to it. */
export interface OutageServer {
  /** Opens a store on the server; `n` gives it a namespace (schema, table prefix) of its own. */
  open(n: number, options: { timeoutMs: number; poolSize?: number }): Promise<Stores>;
  /** Sockets stay open and nothing answers: only a deadline can end a call. */
  hang(): Promise<void>;
  unhang(): Promise<void>;
  /** Open connections are cut and new ones refused. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** After the tests (the scenario closes its stores first). */
  destroy(): Promise<void>;
}

const TIMEOUT_MS = 1000;
/** A hung call is one that has not answered long after its deadline: that is a failure, whatever the machine's speed. */
const HUNG_AFTER_MS = TIMEOUT_MS * 5;

function everyKindOfCall(stores: Stores): Record<string, () => Promise<unknown>> {
  return {
    isPaired: () => stores.pairing.isPaired("alice", "telegram"),
    generateCode: () => stores.pairing.generateCode("telegram", "mallory"),
    approve: () => stores.pairing.approve("telegram", "ABCD-EFGH"),
    listPending: () => stores.pairing.listPending(),
    audit: () => stores.pairing.audit(),
    health: () => stores.pairing.health(),
    lookup: () => stores.sessions.lookup("s1"),
    bind: () => stores.sessions.bind("s2", { userId: "x", role: "user" }),
    sessionsHealth: () => stores.sessions.health(),
    tokens: () => (stores.tokens ? stores.tokens.count() : Promise.resolve()),
  };
}

async function healthy(stores: Stores): Promise<void> {
  const state = () =>
    stores.pairing.health().then(
      () => "up",
      () => "down",
    );
  await expect.poll(state, { timeout: 15_000 }).toBe("up");
}

/**
 * Registers the scenario for `store` ("postgres", "mariadb": the name its errors carry). `hungWritesAreLost`: whether
 * a write sent while the server hung can be promised never to happen (true behind a proxy that drops it; a frozen
 * server still holds it in its socket and may run it when it wakes).
 */
export function describeStoreOutage(
  store: string,
  options: { available: boolean; start: () => Promise<OutageServer>; hungWritesAreLost: boolean },
): void {
  let server: OutageServer | undefined;
  let stores: Stores;
  const unexpected: unknown[] = [];
  const onUnexpected = (error: unknown): void => {
    unexpected.push(error);
  };

  beforeAll(async () => {
    if (!options.available) return;
    process.on("uncaughtException", onUnexpected);
    process.on("unhandledRejection", onUnexpected);
    server = await options.start();
    stores = await server.open(1, { timeoutMs: TIMEOUT_MS, poolSize: 3 });
  }, 60_000);

  afterAll(async () => {
    await stores?.close();
    await server?.destroy();
    process.off("uncaughtException", onUnexpected);
    process.off("unhandledRejection", onUnexpected);
  });

  const up = (): OutageServer => {
    if (!server) throw new Error(`the ${store} server for the outage test did not start`);
    return server;
  };

  describe.runIf(options.available)(`${store} store: the server goes away and comes back`, () => {
    it("fails closed within the deadline while hung or down, and recovers without a restart", async () => {
      const events: string[] = [];
      stores.pairing.subscribe((event) => events.push(`${event.type}:${event.channelId}`));
      const code = await stores.pairing.generateCode("telegram", "alice");
      expect(await stores.pairing.approve("telegram", code)).toBe(true);
      await stores.sessions.bind("s1", { userId: "alice", role: "user" });
      await expect.poll(() => events, { timeout: 5000 }).toEqual(["requested:alice", "approved:alice"]);

      await up().hang();
      try {
        await expectAllUnavailable(store, everyKindOfCall(stores), HUNG_AFTER_MS);
      } finally {
        await up().unhang();
      }
      await healthy(stores);
      expect(await stores.pairing.isPaired("alice", "telegram")).toBe(true);
      if (options.hungWritesAreLost) {
        expect(await stores.pairing.isPaired("mallory", "telegram")).toBe(false);
        expect(
          await stores.pairing.pendingFor("mallory", "telegram"),
          "a request made while hung appeared later",
        ).toBeNull();
      }

      await up().down();
      try {
        await expectAllUnavailable(store, everyKindOfCall(stores), HUNG_AFTER_MS);
        expect(await stores.pairing.isPaired("nobody", "telegram").catch((e: unknown) => e)).toBeInstanceOf(
          StoreUnavailableError,
        );
      } finally {
        await up().up();
      }
      await healthy(stores);
      await stores.sessions.health();
      // Nothing decided before the outage is lost, and the same store works again.
      expect(await stores.pairing.isPaired("alice", "telegram")).toBe(true);
      expect(await stores.sessions.lookup("s1")).toEqual({ userId: "alice", role: "user" });
      const again = await stores.pairing.generateCode("telegram", "bob");
      expect(await stores.pairing.approve("telegram", again)).toBe(true);
      expect(await stores.pairing.isPaired("bob", "telegram")).toBe(true);
      // The subscription listens again on its own.
      await expect.poll(() => events.slice(2), { timeout: 15_000 }).toEqual(["requested:bob", "approved:bob"]);
      expect(unexpected).toEqual([]);
    }, 90_000);

    it("opening a store on a server that is down rejects with StoreUnavailableError", async () => {
      await up().down();
      try {
        const result = await outcome(() => up().open(2, { timeoutMs: TIMEOUT_MS }), HUNG_AFTER_MS);
        expect(result).toBeInstanceOf(StoreUnavailableError);
      } finally {
        await up().up();
      }
      expect(unexpected).toEqual([]);
    }, 60_000);
  });
}
