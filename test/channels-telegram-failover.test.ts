/**
 * One owner per Telegram bot across gateway instances: two `gatehouse start` processes on one shared store, both with
 * the same bot, against the local Bot API (which answers a second concurrent getUpdates with 409 Conflict, as Telegram
 * does). Only the lease holder polls; after kill -9 of the holder the other takes over within the lease time, and a
 * holder paused (SIGSTOP) past its lease steps down when it wakes up. Every update is answered exactly once.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Stores } from "../src/stores/types.js";
import type { LocalBotApi } from "./channels-telegram-api.js";
import { leaseHolderPid } from "./support/lease-holder.js";
import { type Cleanups, type Started, telegramFleet } from "./support/telegram-fleet.js";
import { until } from "./support/until.js";

const TOKEN = "4242:AAH-local_failover_token_abcdefghijklmn";
const LEASE_NAME = "telegram:4242";
const LEASE_SECONDS = 3;
const USER = 777;

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function setup(): Promise<{ api: LocalBotApi; stores: Stores; start: () => Promise<Started> }> {
  const fleet = await telegramFleet(
    { token: TOKEN, leaseSeconds: LEASE_SECONDS, policy: ["unknownUserPolicy: allow"] },
    cleanups,
  );
  return { api: fleet.api, stores: await fleet.open(), start: fleet.start };
}

/** Waits until an instance (or the one with `pid`) holds the bot's lease; returns its pid. */
async function holderPid(stores: Stores, pid?: number): Promise<number> {
  let holder = 0;
  await until(
    async () => {
      holder = await leaseHolderPid(stores, LEASE_NAME);
      return pid === undefined ? holder !== 0 : holder === pid;
    },
    pid === undefined ? "an instance holding the telegram lease" : `process ${pid} to hold the telegram lease`,
    30_000,
  );
  return holder;
}

function send(api: LocalBotApi, text: string): void {
  api.push(api.message(USER, text));
}

/** Every text is answered, and each exactly once. */
async function answeredOnce(api: LocalBotApi, texts: string[]): Promise<void> {
  await until(
    () => texts.every((t) => api.textsTo(USER).includes(`echo: ${t}`)),
    `answers to ${texts.join(", ")}`,
    40_000,
  );
  const replies = api.textsTo(USER);
  for (const t of texts)
    expect(
      replies.filter((r) => r === `echo: ${t}`),
      t,
    ).toHaveLength(1);
}

describe("telegram long polling under a lease, across gateway processes", () => {
  it("only the holder polls; kill -9 of it hands the bot to the other within the lease time; nothing lost or doubled", async () => {
    const { api, stores, start } = await setup();
    const [a, b] = await Promise.all([start(), start()]);
    const first = await holderPid(stores);
    const holder = first === a.child.pid ? a : b;
    const other = holder === a ? b : a;
    send(api, "one");
    send(api, "two");
    await answeredOnce(api, ["one", "two"]);
    // Two processes, one poller: Telegram never had to refuse an overlapping getUpdates.
    expect(api.callsOf("getUpdates").filter((c) => c.status === 409)).toHaveLength(0);

    holder.child.kill("SIGKILL");
    const killedAt = Date.now();
    send(api, "three");
    send(api, "four");
    await holderPid(stores, other.child.pid);
    const takeoverMs = Date.now() - killedAt;
    await answeredOnce(api, ["one", "two", "three", "four"]);
    // Within the lease time plus one renewal period and a process's start-up slack on a loaded machine.
    expect(takeoverMs).toBeLessThan(LEASE_SECONDS * 1000 * 4 + 10_000);
    expect(api.callsOf("getUpdates").filter((c) => c.status === 409)).toHaveLength(0);
  }, 120_000);

  it("a holder paused past its lease (SIGSTOP) steps down when it wakes (SIGCONT): the update the other handled is not handled again", async () => {
    const { api, stores, start } = await setup();
    const [a, b] = await Promise.all([start(), start()]);
    const first = await holderPid(stores);
    const paused = first === a.child.pid ? a : b;
    const other = paused === a ? b : a;
    send(api, "before");
    await answeredOnce(api, ["before"]);

    paused.child.kill("SIGSTOP");
    cleanups.push(() => paused.child.kill("SIGCONT"));
    send(api, "while paused");
    await holderPid(stores, other.child.pid);
    await answeredOnce(api, ["before", "while paused"]);

    paused.child.kill("SIGCONT");
    await until(() => /lease lost/.test(paused.output()), "the woken holder to say it stepped down", 20_000);
    send(api, "after");
    await answeredOnce(api, ["before", "while paused", "after"]);
    expect(await leaseHolderPid(stores, LEASE_NAME)).toBe(other.child.pid);
  }, 120_000);

  it("an offset stored over a day ago is not used: after a quiet week Telegram's ids restart lower, and nothing is lost", async () => {
    const { api, stores, start } = await setup();
    // The last holder handled update 5,000,000 eight days ago and stopped; nothing came since.
    const earlier = await stores.leases!.acquire(LEASE_NAME, "gone-instance", 1_000);
    const eightDaysAgo = Date.now() - 8 * 24 * 3_600_000;
    expect(await stores.leases!.commit(earlier!, JSON.stringify({ offset: 5_000_001, at: eightDaysAgo }))).toBe(true);
    await stores.leases!.release(earlier!);
    // Telegram numbers the next update at random: here far below the stored offset.
    api.restartUpdateIds(4_242);
    send(api, "after a quiet week");
    await start();
    await answeredOnce(api, ["after a quiet week"]);
    // Polled without the stale offset (a getUpdates with it would have confirmed, that is dropped, update 4242).
    expect(api.callsOf("getUpdates").some((call) => call.body.offset === 5_000_001)).toBe(false);
    const cursor = JSON.parse((await stores.leases!.current(LEASE_NAME))!.cursor!) as { offset: number; at: number };
    expect(cursor.offset).toBe(4_243);
    expect(cursor.at).toBeGreaterThan(eightDaysAgo + 7 * 24 * 3_600_000);
  }, 120_000);

  it("an offset stored within the day is used: an update handled but not yet confirmed is not handled again", async () => {
    const { api, stores, start } = await setup();
    // The last holder handled this update a minute ago and committed the next offset, then died before its next
    // getUpdates could confirm it to Telegram: it is still queued there.
    const handled = api.push(api.message(USER, "handled before"));
    const earlier = await stores.leases!.acquire(LEASE_NAME, "gone-instance", 1_000);
    const next = handled + 1;
    expect(await stores.leases!.commit(earlier!, JSON.stringify({ offset: next, at: Date.now() - 60_000 }))).toBe(true);
    await stores.leases!.release(earlier!);
    await start();
    send(api, "new one");
    await answeredOnce(api, ["new one"]);
    expect(api.textsTo(USER)).not.toContain("echo: handled before");
  }, 120_000);
});
