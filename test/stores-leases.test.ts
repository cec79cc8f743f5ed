/**
 * The lease store (`Stores.leases`) on every built-in backend, through two handles on one store where the backend is
 * shared: one holder at a time, fencing tokens that refuse a stale holder's renew and cursor commit, takeover after
 * expiry, release, exactly one winner of many racing acquirers, live() and recent() for heartbeats, and prune().
 */
import { afterAll, describe, expect, it } from "vitest";
import { openStores } from "../src/stores/open.js";
import type { LeaseStore } from "../src/stores/lease.js";
import type { Stores } from "../src/stores/types.js";
import { allBackends } from "./support/backends.js";

const backends = await allBackends();
afterAll(async () => {
  for (const backend of backends) await backend.cleanup();
});

const SECRET = Buffer.alloc(32, 9);
const TTL = 10_000;

describe.each(backends)("leases on $name", (backend) => {
  let now = 1_700_000_000_000;
  const opened: Stores[] = [];
  afterAll(async () => {
    for (const stores of opened.splice(0)) await stores.close();
  });

  /** Two handles on one fresh store (memory: the same handle, it is one process's store). */
  async function pair(): Promise<[LeaseStore, LeaseStore]> {
    const url = backend.freshUrl();
    const first = await openStores(url, { secret: SECRET, now: () => now });
    opened.push(first);
    const second = backend.shared ? await openStores(url, { secret: SECRET, now: () => now }) : first;
    if (second !== first) opened.push(second);
    return [first.leases!, second.leases!];
  }

  it.skipIf(!backend.available)(
    "has one holder; a stale token is refused after a takeover, and the new holder's cursor sticks",
    async () => {
      const [a, b] = await pair();
      const held = await a.acquire("telegram:42", "instance-a", TTL);
      expect(held).toMatchObject({ name: "telegram:42", holder: "instance-a", expiresAt: now + TTL });
      expect(await b.acquire("telegram:42", "instance-b", TTL)).toBeNull();
      expect(await a.commit(held!, "7")).toBe(true);
      now += 5_000;
      const renewed = await a.renew(held!, TTL);
      expect(renewed).toMatchObject({ token: held!.token, expiresAt: now + TTL });
      // A paused holder: its lease runs out, B takes over with a larger token.
      now += TTL + 1;
      const taken = await b.acquire("telegram:42", "instance-b", TTL);
      expect(taken!.token).toBeGreaterThan(held!.token);
      expect((await b.current("telegram:42"))?.cursor).toBe("7");
      // A wakes up: every act under its old token is refused and changes nothing.
      expect(await a.renew(renewed!, TTL)).toBeNull();
      expect(await a.commit(renewed!, "3")).toBe(false);
      expect(await a.release(renewed!)).toBe(false);
      expect(await a.acquire("telegram:42", "instance-a", TTL)).toBeNull();
      expect(await b.commit(taken!, "9")).toBe(true);
      expect(await a.current("telegram:42")).toMatchObject({ holder: "instance-b", token: taken!.token, cursor: "9" });
    },
  );

  it.skipIf(!backend.available)(
    "a released lease is free at once; re-acquiring by the same holder fences its old token",
    async () => {
      const [a, b] = await pair();
      const first = await a.acquire("discord:1", "instance-a", TTL);
      const again = await a.acquire("discord:1", "instance-a", TTL);
      expect(again!.token).toBe(first!.token + 1);
      expect(await a.commit(first!, "old")).toBe(false);
      expect(await a.release(again!)).toBe(true);
      const taken = await b.acquire("discord:1", "instance-b", TTL);
      expect(taken).toMatchObject({ holder: "instance-b", token: again!.token + 1 });
      expect(await a.current("never-taken")).toBeNull();
    },
  );

  it.skipIf(!backend.available)("of many racing acquirers exactly one wins", async () => {
    const [a, b] = await pair();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).acquire("race", `instance-${i}`, TTL)),
    );
    const winners = results.filter((lease) => lease !== null);
    expect(winners).toHaveLength(1);
    expect((await a.current("race"))?.holder).toBe(winners[0]!.holder);
  });

  it.skipIf(!backend.available)("live() lists the unexpired leases under a prefix, by name", async () => {
    const [a, b] = await pair();
    const x = await a.acquire("instance:x", "x", TTL);
    await b.acquire("instance:y", "y", TTL * 3);
    await a.acquire("telegram:1", "x", TTL);
    await a.commit(x!, '{"pid":1}');
    expect((await b.live("instance:")).map((state) => [state.name, state.holder, state.cursor])).toEqual([
      ["instance:x", "x", '{"pid":1}'],
      ["instance:y", "y", null],
    ]);
    now += TTL + 1;
    expect((await a.live("instance:")).map((state) => state.name)).toEqual(["instance:y"]);
  });

  it.skipIf(!backend.available)(
    "recent() also lists leases that ran out since a time; prune() forgets expired ones under a prefix only",
    async () => {
      const [a, b] = await pair();
      const gone = await a.acquire("instance:gone", "gone", TTL);
      await a.commit(gone!, "{}");
      const stopped = await a.acquire("instance:stopped", "stopped", TTL);
      await a.release(stopped!);
      await a.acquire("telegram:7", "gone", TTL);
      const since = now;
      now += TTL + 1;
      const alive = await b.acquire("instance:alive", "alive", TTL);
      expect((await b.recent("instance:", since)).map((state) => [state.name, state.cursor])).toEqual([
        ["instance:alive", null],
        ["instance:gone", "{}"],
      ]);
      expect((await b.live("instance:")).map((state) => state.name)).toEqual(["instance:alive"]);
      expect(await a.prune("instance:", now - 1)).toBe(2);
      expect(await a.current("instance:gone")).toBeNull();
      expect(await a.current("instance:stopped")).toBeNull();
      // Another prefix's expired lease keeps its row (and so its fencing tokens); a live one is never pruned.
      expect(await a.current("telegram:7")).toMatchObject({ holder: "gone" });
      expect(await b.prune("instance:", now + TTL - 1)).toBe(0);
      expect(await b.commit(alive!, "still")).toBe(true);
      // A pruned name starts over.
      expect(await b.acquire("instance:gone", "gone", TTL)).toMatchObject({ token: 1 });
      await expect(a.prune("", now)).rejects.toThrow(/prune prefix/);
    },
  );

  it.skipIf(!backend.available)("refuses a bad name, holder or lifetime before touching the store", async () => {
    const [a] = await pair();
    await expect(a.acquire("has space", "x", TTL)).rejects.toThrow(/lease name/);
    await expect(a.acquire("ok", "", TTL)).rejects.toThrow(/lease holder/);
    await expect(a.acquire("ok", "x", 0)).rejects.toThrow(/ttlMs/);
    expect(await a.current("ok")).toBeNull();
  });
});
