import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../src/pairing/errors.js";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import type { Stores } from "../src/stores/types.js";
import { TempPostgres } from "./postgres-server.js";
import { expectAllUnavailable, outcome } from "./support/outage.js";

const TIMEOUT_MS = 1000;
/** A hung call is one that has not answered long after its deadline: that is a failure, whatever the machine's speed. */
const HUNG_AFTER_MS = TIMEOUT_MS * 5;

let server: TempPostgres;
let stores: Stores;
const unexpected: unknown[] = [];
const onUnexpected = (error: unknown): void => {
  unexpected.push(error);
};

beforeAll(async () => {
  process.on("uncaughtException", onUnexpected);
  process.on("unhandledRejection", onUnexpected);
  server = await TempPostgres.start();
  stores = await openPostgresStores(`${server.url}?schema=gh_outage`, {
    secret: randomBytes(32),
    timeoutMs: TIMEOUT_MS,
    poolSize: 3,
  });
}, 60_000);

afterAll(async () => {
  await stores?.close();
  await server?.destroy();
  process.off("uncaughtException", onUnexpected);
  process.off("unhandledRejection", onUnexpected);
});

const expectUnavailable = (calls: Record<string, () => Promise<unknown>>): Promise<void> =>
  expectAllUnavailable("postgres", calls, HUNG_AFTER_MS);

const everyKindOfCall = (): Record<string, () => Promise<unknown>> => ({
  isPaired: () => stores.pairing.isPaired("alice", "telegram"),
  generateCode: () => stores.pairing.generateCode("telegram", "mallory"),
  approve: () => stores.pairing.approve("telegram", "ABCD-EFGH"),
  listPending: () => stores.pairing.listPending(),
  audit: () => stores.pairing.audit(),
  health: () => stores.pairing.health(),
  lookup: () => stores.sessions.lookup("s1"),
  bind: () => stores.sessions.bind("s2", { userId: "x", role: "user" }),
  sessionsHealth: () => stores.sessions.health(),
});

describe("postgres store: the server goes away and comes back", () => {
  it("fails closed within the deadline while down or hung, and recovers without a restart", async () => {
    const events: string[] = [];
    stores.pairing.subscribe((event) => events.push(`${event.type}:${event.channelId}`));
    const code = await stores.pairing.generateCode("telegram", "alice");
    expect(await stores.pairing.approve("telegram", code)).toBe(true);
    await stores.sessions.bind("s1", { userId: "alice", role: "user" });
    await expect.poll(() => events, { timeout: 5000 }).toEqual(["requested:alice", "approved:alice"]);

    // Hung: every process stopped, sockets open, so only the deadline can end a call.
    await server.freeze();
    try {
      await expectUnavailable(everyKindOfCall());
    } finally {
      await server.thaw();
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

    // Down: connections terminated and refused.
    await server.stop();
    await expectUnavailable(everyKindOfCall());
    expect(await stores.pairing.isPaired("nobody", "telegram").catch((e: unknown) => e)).toBeInstanceOf(
      StoreUnavailableError,
    );

    await server.startAgain();
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
    expect(await stores.pairing.isPaired("bob", "telegram")).toBe(true);
    // The subscription re-listened on its own.
    await expect.poll(() => events.slice(2), { timeout: 15_000 }).toEqual(["requested:bob", "approved:bob"]);
    expect(unexpected).toEqual([]);
  }, 90_000);

  it("opening a store on a server that is down rejects with StoreUnavailableError", async () => {
    await server.stop();
    try {
      const result = await outcome(
        () =>
          openPostgresStores(`${server.url}?schema=gh_outage_2`, { secret: randomBytes(32), timeoutMs: TIMEOUT_MS }),
        HUNG_AFTER_MS,
      );
      expect(result).toBeInstanceOf(StoreUnavailableError);
    } finally {
      await server.startAgain();
    }
    expect(unexpected).toEqual([]);
  }, 60_000);
});
