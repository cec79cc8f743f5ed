import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConversationMemory } from "../src/conversation/memory.js";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import { SECRET } from "./gateway-helpers.js";
import { testPrefixes } from "./mariadb-helpers.js";
import { testSchemas } from "./postgres-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";

const dirs: string[] = [];
const prefixes: string[] = [];
const redisUp = await requireRedis();
const schemas = await testSchemas("conv");
if (!schemas.available && process.env.CI === "true")
  throw new Error("PostgreSQL is not reachable and CI=true: the conversation tests cannot skip it");
const opened: Stores[] = [];
// Stores a test left open (a failed assertion) are closed before their tables are dropped.
const tables = await testPrefixes("conv", async () =>
  Promise.all(opened.splice(0).map((stores) => stores.close().catch(() => undefined))),
);
afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (redisUp) for (const prefix of prefixes) await deleteKeys(prefix);
});

interface Backend {
  name: string;
  available: boolean;
  /** Redis expires keys itself, on its own clock; the others read the injected one. */
  clock: "injected" | "server";
  open(now: () => number): Promise<Stores>;
}

function sqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "gh-conv-"));
  dirs.push(dir);
  return join(dir, "gatehouse.db");
}

const BACKENDS: Backend[] = [
  { name: "memory", available: true, clock: "injected", open: (now) => openStores("memory:", { secret: SECRET, now }) },
  {
    name: "sqlite",
    available: true,
    clock: "injected",
    open: (now) => openStores(`sqlite:${sqliteFile()}`, { secret: SECRET, now }),
  },
  {
    name: "redis",
    available: redisUp,
    clock: "server",
    open: (now) => {
      const keyPrefix = `${uniquePrefix()}:`;
      prefixes.push(keyPrefix);
      return openStores(REDIS_URL, { secret: SECRET, now, keyPrefix });
    },
  },
  {
    name: "postgres",
    available: schemas.available,
    clock: "injected",
    open: (now) => openStores(schemas.nextUrl(), { secret: SECRET, now }),
  },
  {
    name: "mariadb",
    available: tables.available,
    clock: "injected",
    open: async (now) => {
      const stores = await openStores(tables.nextUrl(), { secret: SECRET, now });
      opened.push(stores);
      return stores;
    },
  },
];

const alice = { userId: "alice", channelType: "telegram" };

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`conversation memory on ${backend.name}`, () => {
    async function open(limits: ConstructorParameters<typeof ConversationMemory>[1] = {}) {
      let time = 1_000_000;
      const stores = await backend.open(() => time);
      const memory = new ConversationMemory(stores.conversations!, limits);
      return { stores, memory, advance: (ms: number) => (time += ms) };
    }

    it("keeps turns per session, oldest first, and forgets them on request", async () => {
      const { stores, memory } = await open();
      await memory.remember("s1", alice, "hi", "hello!");
      await memory.remember("s1", alice, "how are you?", "fine");
      await memory.remember("s2", alice, "other", "session");
      expect(await memory.history("s1", alice)).toEqual([
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello!" },
        { role: "user", content: "how are you?" },
        { role: "assistant", content: "fine" },
      ]);
      await memory.forget("s1");
      expect(await memory.history("s1", alice)).toEqual([]);
      expect(await memory.history("s2", alice)).toHaveLength(2);
      await stores.close();
    });

    it("is bounded by turns and by characters, dropping the oldest whole turns", async () => {
      const { stores, memory } = await open({ maxTurns: 2, maxChars: 25 });
      await memory.remember("s", alice, "one", "1");
      await memory.remember("s", alice, "two", "2");
      await memory.remember("s", alice, "three", "3");
      expect((await memory.history("s", alice)).map((m) => m.content)).toEqual(["two", "2", "three", "3"]);
      await memory.remember("s", alice, "a".repeat(20), "b");
      expect((await memory.history("s", alice)).map((m) => m.content)).toEqual(["a".repeat(20), "b"]);
      await stores.close();
    });

    it("is read back only by the principal and channel that started it", async () => {
      const { stores, memory } = await open();
      await memory.remember("s", alice, "secret plans", "noted");
      expect(await memory.history("s", { userId: "mallory", channelType: "telegram" })).toEqual([]);
      expect(await memory.history("s", { userId: "alice", channelType: "discord" })).toEqual([]);
      // Someone else writing to the session starts a fresh conversation rather than reading the old one.
      await memory.remember("s", { userId: "mallory", channelType: "telegram" }, "what did she say?", "nothing here");
      expect((await memory.history("s", { userId: "mallory", channelType: "telegram" })).map((m) => m.content)).toEqual(
        ["what did she say?", "nothing here"],
      );
      expect(await memory.history("s", alice)).toEqual([]);
      await stores.close();
    });

    it("forgets a conversation idle past its TTL, and a turn renews it", async () => {
      const ttl = backend.clock === "server" ? 300 : 60_000;
      const { stores, memory, advance } = await open({ idleTtlMs: ttl });
      const wait = async (ms: number) =>
        backend.clock === "server" ? new Promise((r) => setTimeout(r, ms)) : advance(ms);
      await memory.remember("s", alice, "first", "1");
      await wait(ttl * 0.6);
      await memory.remember("s", alice, "second", "2");
      await wait(ttl * 0.6);
      expect(await memory.history("s", alice)).toHaveLength(4);
      await wait(ttl * 1.2);
      expect(await memory.history("s", alice)).toEqual([]);
      await stores.close();
    });
  });
}

describe("conversation memory in SQLite", () => {
  it("survives a restart of the gateway (the file is reopened)", async () => {
    const file = sqliteFile();
    const first = await openStores(`sqlite:${file}`, { secret: SECRET });
    await new ConversationMemory(first.conversations!).remember("s", alice, "remember me", "I will");
    await first.close();
    const second = await openStores(`sqlite:${file}`, { secret: SECRET });
    expect(await new ConversationMemory(second.conversations!).history("s", alice)).toHaveLength(2);
    await second.close();
  });

  it("refuses limits that are not positive integers", async () => {
    const stores = await openStores("memory:", { secret: SECRET });
    expect(() => new ConversationMemory(stores.conversations!, { maxTurns: 0 })).toThrow(/maxTurns/);
    await stores.close();
  });
});
