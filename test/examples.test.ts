/**
 * The example stores in examples/ (a Map, and ports of the Redis and SQLite stores from PraisonAI's protocol docs) each
 * give a working gateway: the whole webchat pairing story (a code, an owner's HTTP approve, admitted, revoked; for the
 * shared ones also an approve from a second process, seen through the isPaired poll), and they pass every required
 * conformance case. The recommended rules each one does not keep are listed, with why, in examples/README.md.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type PairingProtocol } from "gatehouse";
import { describePairingStore } from "gatehouse/testing";
import { createMapPairingStore } from "../examples/map-store.js";
import { createRedisExampleStore } from "../examples/redis-store.js";
import { createSqliteExampleStore } from "../examples/sqlite-store.js";
import { APPROVAL_POLL_INTERVAL_MS } from "../src/gateway/approval-poll.js";
import { deviceId, OWNER_TOKEN, startGateway, TestSocket } from "./gateway-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";
import { collectCases, failingRules } from "./support/collect-cases.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "gh-examples-"));
const redisPrefix = uniquePrefix();
const connect = () => createClient({ url: REDIS_URL }).connect();
let redis: Awaited<ReturnType<typeof connect>> | undefined;
let files = 0;

beforeAll(async () => {
  if (await requireRedis()) redis = await connect();
});
afterAll(async () => {
  await redis?.quit();
  await deleteKeys(redisPrefix);
  rmSync(dir, { recursive: true, force: true });
});

interface Example {
  name: string;
  /** A fresh, empty store; `approveElsewhere` approves a code from a second process sharing it. */
  open(now?: () => number): {
    store: PairingProtocol;
    approveElsewhere?: (channelType: string, code: string) => Promise<string>;
  };
  /** The recommended rules it does not keep (see examples/README.md for why). */
  breaks: string[];
}

const examples: Example[] = [
  {
    name: "map-store",
    open: (now) => ({ store: createMapPairingStore(now ? { now } : {}) }),
    breaks: ["caps", "guess-limits", "input-errors", "revoke-wins"],
  },
  {
    name: "redis-store",
    open() {
      if (!redis) throw new Error("Redis is not reachable on 127.0.0.1:6379");
      const prefix = `${redisPrefix}${files++}:`;
      return {
        store: createRedisExampleStore(redis, { prefix }),
        approveElsewhere: (channelType, code) => approveFromChild(["redis", REDIS_URL, prefix, channelType, code]),
      };
    },
    breaks: ["caps", "code-format", "expiry", "guess-limits", "input-errors", "invites", "revoke-wins", "same-code"],
  },
  {
    name: "sqlite-store",
    open() {
      const file = join(dir, `example-${files++}.db`);
      return {
        store: createSqliteExampleStore(file),
        approveElsewhere: (channelType, code) => approveFromChild(["sqlite", file, "-", channelType, code]),
      };
    },
    breaks: [
      "caps",
      "code-format",
      "expiry",
      "guess-limits",
      "input-errors",
      "invites",
      "malformed-input",
      "revoke-wins",
      "same-code",
    ],
  },
];

async function approveFromChild(args: string[]): Promise<string> {
  const tsx = join(root, "node_modules/tsx/dist/cli.mjs");
  const { stdout } = await run(process.execPath, [tsx, join(root, "test/support/example-approve.ts"), ...args], {
    cwd: root,
  });
  return stdout.trim();
}

async function waitingDevice(wsUrl: string): Promise<{ socket: TestSocket; device: string; code: string }> {
  const device = deviceId("example");
  const socket = await TestSocket.open(wsUrl);
  socket.send({ type: "connect", params: { deviceId: device } });
  const pairing = await socket.nextOfType("pairing");
  return { socket, device, code: pairing.code as string };
}

it("a store missing methods gets one TypeError naming every missing method", () => {
  const { revoke: _revoke, listPending: _listPending, ...partial } = createMapPairingStore();
  expect(() => createGateway({ pairingStore: partial as PairingProtocol })).toThrow(
    new TypeError("pairingStore is missing: listPending, revoke"),
  );
});

for (const example of examples) {
  describe(`examples/${example.name}.ts`, () => {
    it("runs a gateway through the whole webchat pairing story", async () => {
      const { store, approveElsewhere } = example.open();
      const gw = await startGateway({ pairingStore: store });
      const sockets: TestSocket[] = [];
      try {
        const first = await waitingDevice(gw.wsUrl);
        sockets.push(first.socket);
        const listed = await gw.api("GET", "/api/pairing/pending?channelType=webchat", { token: OWNER_TOKEN });
        expect(listed.body.pending).toEqual([
          expect.objectContaining({ code: first.code, channelId: first.device, kind: "request" }),
        ]);
        const approved = await gw.api("POST", "/api/pairing/approve", {
          token: OWNER_TOKEN,
          body: { channelType: "webchat", code: first.code },
        });
        expect(approved.body).toEqual({ approved: true });
        const hello = await first.socket.nextOfType("hello");
        expect(hello.principal).toEqual({ userId: first.device, role: "user" });
        const reply = await first.socket.request("c1", "chat.send", { text: "hello" });
        expect(reply.ok).toBe(true);

        if (approveElsewhere) {
          const second = await waitingDevice(gw.wsUrl);
          sockets.push(second.socket);
          expect(await approveElsewhere("webchat", second.code)).toBe("true");
          await second.socket.nextOfType("hello", APPROVAL_POLL_INTERVAL_MS + 2_000);
          expect(await store.isPaired(second.device, "webchat")).toBe(true);
        }

        const revoked = await gw.api("DELETE", `/api/pairing/paired/webchat/${first.device}`, { token: OWNER_TOKEN });
        expect(revoked.body).toEqual({ revoked: true });
        expect((await first.socket.closed).code).toBe(4403);
        expect(await store.isPaired(first.device, "webchat")).toBe(false);
      } finally {
        for (const socket of sockets) socket.close();
        await gw.stop();
        await (store as { close?: () => void }).close?.();
      }
    }, 30_000);

    describePairingStore(example.name, (ctx) => example.open(ctx.now).store, {
      describe,
      it,
      level: "required",
      extras: false,
    });

    it("keeps every required rule; the recommended rules it does not keep are exactly the ones listed", async () => {
      const cases = collectCases((runner) =>
        describePairingStore(example.name, (ctx) => example.open(ctx.now).store, { ...runner, extras: false }),
      );
      expect(await failingRules(cases)).toEqual(example.breaks);
    }, 60_000);
  });
}
