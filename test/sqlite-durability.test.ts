import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../src/pairing/errors.js";
import { openSqliteStores } from "../src/stores/sqlite/index.js";
import type { AuditEvent, Stores } from "../src/stores/types.js";
import { until } from "./support/until.js";

const root = mkdtempSync(join(tmpdir(), "gh-sqlite-durable-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshFile = (): string => join(root, `case-${++n}`, "gatehouse.db");

function clock(start = Date.UTC(2030, 0, 1)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** Every byte SQLite keeps for this database: the main file and, while open, its write-ahead log. */
function storedBytes(file: string): Buffer {
  return Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
}

describe("sqlite store: data survives a restart", () => {
  it("keeps pairings, pending requests, invites, cooldowns, lockouts, sessions and the audit log", async () => {
    const file = freshFile();
    const secret = randomBytes(32);
    const c = clock();
    const options = { secret, now: c.now, redeemFailureLimit: 2 };
    const first = await openSqliteStores(file, options);
    const aliceCode = await first.pairing.generateCode("telegram", "alice", { userName: "Alice" });
    expect(await first.pairing.approve("telegram", aliceCode)).toBe(true);
    const bobCode = await first.pairing.generateCode("telegram", "bob", { firstMessage: "hello there" });
    const invite = await first.pairing.generateCode("telegram");
    const carolCode = await first.pairing.generateCode("telegram", "carol");
    expect(await first.pairing.deny("telegram", carolCode)).toBe(true);
    expect(await first.pairing.approve("telegram", "ZZZZ-ZZZZ", "mallory")).toBe(false);
    expect(await first.pairing.approve("telegram", "YYYY-YYYY", "mallory")).toBe(false);
    await first.sessions.bind("sess-1", { userId: "alice", role: "user", scopes: ["chat"] });
    const auditBefore = await first.pairing.audit();
    await first.close();

    const second = await openSqliteStores(file, options);
    try {
      expect(await second.pairing.isPaired("alice", "telegram")).toBe(true);
      expect(await second.pairing.listPaired()).toEqual([
        { channelId: "alice", channelType: "telegram", label: "Alice", pairedAt: c.now(), approvedBy: "owner" },
      ]);
      expect((await second.pairing.generateCode("telegram", "bob")) === bobCode).toBe(true);
      expect(await second.pairing.pendingFor("bob", "telegram")).toMatchObject({
        code: bobCode,
        firstMessage: "hello there",
      });
      await expect(second.pairing.generateCode("telegram", "carol")).rejects.toThrow(/denied recently/);
      // mallory is still locked out on telegram: even a valid invite is refused for them.
      expect(await second.pairing.approve("telegram", invite, "mallory")).toBe(false);
      expect(await second.pairing.approve("telegram", invite, "dave")).toBe(true);
      expect(await second.pairing.isPaired("dave", "telegram")).toBe(true);
      expect(await second.sessions.lookup("sess-1")).toEqual({ userId: "alice", role: "user", scopes: ["chat"] });
      const auditAfter = await second.pairing.audit();
      expect(auditAfter.events.slice(0, auditBefore.events.length)).toEqual(auditBefore.events);
      expect(auditAfter.events.map((e) => e.type)).toContain("locked-out");
    } finally {
      await second.close();
    }
  });

  it("reopening forgets only what can no longer matter: idle sessions, past cooldowns, stale failure windows", async () => {
    const file = freshFile();
    const secret = randomBytes(32);
    const c = clock();
    const options = { secret, now: c.now, sessionIdleTtlMs: 60 * 60_000 };
    const first = await openSqliteStores(file, options);
    await first.sessions.bind("old", { userId: "a", role: "user" });
    const code = await first.pairing.generateCode("telegram", "carol");
    await first.pairing.deny("telegram", code);
    await first.pairing.approve("telegram", "ZZZZ-ZZZZ", "mallory");
    c.advance(2 * 60 * 60_000);
    await first.sessions.bind("new", { userId: "b", role: "user" });
    await first.close();
    const count = (table: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
      } finally {
        db.close();
      }
    };
    expect([count("sessions"), count("deny_cooldowns"), count("redeem_failures")]).toEqual([2, 1, 1]);
    const second = await openSqliteStores(file, options);
    expect([count("sessions"), count("deny_cooldowns"), count("redeem_failures")]).toEqual([1, 0, 0]);
    expect(await second.sessions.lookup("new")).toEqual({ userId: "b", role: "user" });
    expect(await second.pairing.generateCode("telegram", "carol")).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    await second.close();
  });

  it("an invite redeems after a restart only with the same secret", async () => {
    const file = freshFile();
    const secret = randomBytes(32);
    const first = await openSqliteStores(file, { secret });
    const invite = await first.pairing.generateCode("telegram");
    await first.close();
    // Another secret is refused at open (it would void every code), rather than opened to answer false.
    await expect(openSqliteStores(file, { secret: randomBytes(32) })).rejects.toThrow(
      /first opened with another gateway secret/,
    );
    const right = await openSqliteStores(file, { secret });
    expect(await right.pairing.approve("telegram", invite, "bob")).toBe(true);
    expect(await right.pairing.approve("telegram", invite, "eve")).toBe(false);
    await right.close();
  });

  it("stores an invite code only as a keyed hash: the code is nowhere in the file or its log", async () => {
    const file = freshFile();
    const stores = await openSqliteStores(file, { secret: randomBytes(32) });
    const invites: string[] = [];
    for (let i = 0; i < 5; i++) invites.push(await stores.pairing.generateCode("telegram"));
    const request = await stores.pairing.generateCode("telegram", "alice");
    const check = () => {
      const bytes = storedBytes(file);
      expect(bytes.includes(request), "a request's code is shown to the owner, so it is stored").toBe(true);
      for (const code of invites) {
        expect(bytes.includes(code)).toBe(false);
        expect(bytes.includes(code.replace("-", ""))).toBe(false);
      }
    };
    check();
    expect((await stores.pairing.listPending()).filter((p) => p.kind === "invite").map((p) => p.code)).toEqual(
      Array(5).fill("****-****"),
    );
    await stores.close();
    check();
  });
});

describe("sqlite store: several connections to one file", () => {
  it("subscribe sees events written by another connection, from the moment it subscribed", async () => {
    const file = freshFile();
    const secret = randomBytes(32);
    const a = await openSqliteStores(file, { secret });
    const b = await openSqliteStores(file, { secret });
    try {
      await b.pairing.generateCode("telegram", "before");
      const seen: AuditEvent[] = [];
      const unsubscribe = a.pairing.subscribe((event) => seen.push(event));
      const code = await b.pairing.generateCode("telegram", "alice");
      await b.pairing.approve("telegram", code, "", "", { approvedBy: "owner-1" });
      await until(() => seen.length >= 2, "two events from the other connection", 5_000);
      expect(seen.map((e) => [e.type, e.channelId, e.actor])).toEqual([
        ["requested", "alice", "alice"],
        ["approved", "alice", "owner-1"],
      ]);
      // Events written through the subscribed store itself arrive too, once each, in order.
      await a.pairing.revoke("alice", "telegram");
      await until(() => seen.length >= 3, "the local revoke", 5_000);
      unsubscribe();
      await b.pairing.generateCode("telegram", "after");
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(seen.map((e) => e.type)).toEqual(["requested", "approved", "revoked"]);
      expect(new Set(seen.map((e) => e.id)).size).toBe(3);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a subscriber that writes from inside its listener still gets every event once, in order", async () => {
    const file = freshFile();
    const secret = randomBytes(32);
    const a = await openSqliteStores(file, { secret });
    const b = await openSqliteStores(file, { secret });
    const seen: AuditEvent[] = [];
    const pending: Promise<unknown>[] = [];
    a.pairing.subscribe((event) => {
      seen.push(event);
      // An owner bot withdrawing every request the moment it is announced (its write happens inside this call).
      if (event.type === "requested") pending.push(a.pairing.revoke(event.channelId, event.channelType));
    });
    // Written by another connection, so the poller picks all three up in one batch.
    for (let i = 0; i < 3; i++) await b.pairing.generateCode("telegram", `user-${i}`);
    await until(() => seen.length >= 6, "three requests and three revocations", 5_000);
    await Promise.all(pending);
    const ids = seen.map((event) => Number(event.id));
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.map((event) => `${event.type}:${event.channelId}`)).toEqual([
      "requested:user-0",
      "requested:user-1",
      "requested:user-2",
      "revoked:user-0",
      "revoked:user-1",
      "revoked:user-2",
    ]);
    await a.close();
    await b.close();
  });

  it("a pairing made through one connection is seen at once by another", async () => {
    const file = freshFile();
    const secret = randomBytes(32);
    const a = await openSqliteStores(file, { secret });
    const b = await openSqliteStores(file, { secret });
    const invite = await a.pairing.generateCode("slack");
    expect(await b.pairing.approve("slack", invite, "U123")).toBe(true);
    expect(await a.pairing.isPaired("U123", "slack")).toBe(true);
    expect(await a.pairing.revoke("U123", "slack")).toBe(true);
    expect(await b.pairing.isPaired("U123", "slack")).toBe(false);
    await a.close();
    await b.close();
  });

  it("a write blocked past the timeout by another process's lock fails closed with StoreUnavailableError, changing nothing", async () => {
    const file = freshFile();
    const secret = randomBytes(32);
    const stores: Stores = await openSqliteStores(file, { secret, timeoutMs: 50 });
    const code = await stores.pairing.generateCode("telegram", "alice");
    const holder = new Database(file);
    holder.exec("BEGIN IMMEDIATE");
    try {
      await expect(stores.pairing.approve("telegram", code)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(stores.pairing.generateCode("telegram", "bob")).rejects.toBeInstanceOf(StoreUnavailableError);
      // Readers are never blocked in WAL mode, nor are listings while nothing has expired (no sweep to write).
      expect(await stores.pairing.isPaired("alice", "telegram")).toBe(false);
      expect((await stores.pairing.listPending()).map((p) => p.channelId)).toEqual(["alice"]);
      expect(await stores.pairing.pendingFor("alice", "telegram")).toMatchObject({ code });
      await stores.pairing.health();
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    expect((await stores.pairing.listPending()).map((p) => p.channelId)).toEqual(["alice"]);
    expect(await stores.pairing.approve("telegram", code)).toBe(true);
    await stores.close();
  });

  it("health answers while open and rejects with StoreUnavailableError once closed", async () => {
    const stores = await openSqliteStores(freshFile(), { secret: randomBytes(32) });
    await expect(stores.pairing.health()).resolves.toBeUndefined();
    await expect(stores.sessions.health()).resolves.toBeUndefined();
    await stores.pairing.close();
    await expect(stores.pairing.health()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(stores.pairing.isPaired("a", "telegram")).rejects.toThrow(/closed/);
    // The session store shares the file and keeps working until it is closed too.
    await stores.sessions.bind("s", { userId: "u", role: "user" });
    expect(await stores.sessions.lookup("s")).toEqual({ userId: "u", role: "user" });
    await stores.close();
    await expect(stores.sessions.health()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
