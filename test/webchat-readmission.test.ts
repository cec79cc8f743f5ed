/**
 * A connected webchat device is admitted again before each of its requests, from the store (DESIGN: a revoke takes
 * effect on the next request, on every instance). Here the gateway hears of no decision: the example map store has no
 * event feed, and the SQLite store is seen through a view without its `subscribe`. So a revoke made in the store
 * itself, or a store that stops answering, can reach the device's next request only through that re-admission, in
 * both shapes the gateway asks in: the plain `isPaired` of a protocol-only store and the built-in stores' batched
 * `isPairedMany`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createMapPairingStore, createMapSessionStore } from "../examples/map-store.js";
import type { PairingProtocol } from "../src/index.js";
import { openStores } from "../src/stores/open.js";
import { SECRET, startGateway, type TestGateway, type TestSocket } from "./gateway-helpers.js";
import { connectKeyDevice, makeKeyDevice } from "./support/key-device.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Methods the gateway may call on the store, passed through; `subscribe` (the event feed) is left out. */
const PASSED = [
  "generateCode",
  "approve",
  "isPaired",
  "isPairedMany",
  "listPaired",
  "revoke",
  "listPending",
  "pendingFor",
  "deny",
];

/** The store as the gateway sees it: no event feed, and isPaired/isPairedMany failing while `down` is set. */
function quietView(store: PairingProtocol, state: { down: boolean }): PairingProtocol {
  const view: Record<string, unknown> = {};
  for (const name of PASSED) {
    const method = (store as unknown as Record<string, unknown>)[name];
    if (typeof method !== "function") continue;
    view[name] = (...args: unknown[]) =>
      state.down && name.startsWith("isPaired")
        ? Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1"))
        : (method as (...a: unknown[]) => unknown).apply(store, args);
  }
  return view as unknown as PairingProtocol;
}

interface Setup {
  name: string;
  open(): Promise<{ store: PairingProtocol; close(): Promise<void> | void }>;
}

const SETUPS: Setup[] = [
  {
    name: "a protocol-only store (isPaired)",
    open: async () => ({ store: createMapPairingStore(), close: () => undefined }),
  },
  {
    name: "the SQLite store (isPairedMany, batched)",
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), "gh-readmit-"));
      const stores = await openStores(`sqlite:${join(dir, "gatehouse.db")}`, { secret: SECRET });
      return {
        store: stores.pairing,
        close: async () => {
          await stores.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

for (const setup of SETUPS) {
  describe(`re-admission before each webchat request, ${setup.name}`, () => {
    async function start(): Promise<{
      gw: TestGateway;
      store: PairingProtocol;
      state: { down: boolean };
      runs: () => number;
    }> {
      const opened = await setup.open();
      cleanups.push(() => opened.close());
      const state = { down: false };
      let runs = 0;
      const gw = await startGateway({
        pairingStore: quietView(opened.store, state),
        sessionBinding: createMapSessionStore(),
        agent: (message) => {
          runs++;
          return `heard: ${message.text}`;
        },
      });
      cleanups.push(() => gw.stop());
      return { gw, store: opened.store, state, runs: () => runs };
    }

    /** A key device paired in the store itself, connected and said hello. */
    async function pairedDevice(gw: TestGateway, store: PairingProtocol): Promise<TestSocket> {
      const device = makeKeyDevice();
      const code = await store.generateCode("webchat", device.deviceId);
      expect(await store.approve("webchat", code)).toBe(true);
      const { socket, first } = await connectKeyDevice(gw.wsUrl, device);
      cleanups.push(() => socket.close());
      expect(first.type).toBe("hello");
      return socket;
    }

    it("a revoke made in the store stops the device at its next request, before the agent runs", async () => {
      const { gw, store, runs } = await start();
      const socket = await pairedDevice(gw, store);
      const device = (await store.listPaired()).find((p) => p.channelType === "webchat");
      expect((await socket.request(1, "chat.send", { text: "one" })).payload).toEqual({ text: "heard: one" });
      expect(runs()).toBe(1);

      expect(await store.revoke(device!.channelId, "webchat")).toBe(true);
      socket.send({ type: "req", id: 2, method: "chat.send", params: { text: "two" } });
      const error = await socket.nextOfType("error");
      expect(error.error).toMatchObject({ code: "forbidden", message: "this device is no longer paired" });
      expect((await socket.closed).code).toBe(4403);
      expect(runs()).toBe(1);
      expect(socket.frames.some((f) => f.type === "res" && f.id === 2 && f.ok === true)).toBe(false);
    });

    it("a store that cannot answer fails the request closed, and the device goes on once it answers again", async () => {
      const { gw, store, state, runs } = await start();
      const socket = await pairedDevice(gw, store);
      state.down = true;
      const refused = await socket.request(1, "chat.send", { text: "while down" });
      expect(refused).toMatchObject({ ok: false, error: { code: "unavailable" } });
      expect(runs()).toBe(0);
      expect(gw.logger.lines.join("\n")).not.toContain("while down");

      state.down = false;
      expect((await socket.request(2, "chat.send", { text: "back" })).payload).toEqual({ text: "heard: back" });
      expect(runs()).toBe(1);
    });
  });
}

describe("a device let in while its connect is still looking it up", () => {
  it("has its first request answered: re-admission waits for the connect instead of dropping the request", async () => {
    const store = createMapPairingStore();
    const view = quietView(store, { down: false });
    // The connect's own look-up after minting the code (the channel's check for an approval that raced it) is held
    // until released; the approval reaches the device meanwhile through the gateway's poll of the store.
    let armed = false;
    let held = false;
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated: PairingProtocol = {
      ...view,
      generateCode: async (...args: Parameters<PairingProtocol["generateCode"]>) => {
        const code = await view.generateCode(...args);
        armed = true;
        return code;
      },
      isPaired: async (...args: Parameters<PairingProtocol["isPaired"]>) => {
        if (armed) {
          armed = false;
          held = true;
          await released;
        }
        return view.isPaired(...args);
      },
    };
    const gw = await startGateway({
      pairingStore: gated,
      sessionBinding: createMapSessionStore(),
      agent: (message) => `heard: ${message.text}`,
    });
    cleanups.push(() => gw.stop());
    cleanups.push(release);

    const { socket, first } = await connectKeyDevice(gw.wsUrl, makeKeyDevice());
    cleanups.push(() => socket.close());
    expect(first.type).toBe("pairing");
    expect(held).toBe(true);
    expect(await store.approve("webchat", String(first.code))).toBe(true);
    await socket.nextOfType("hello", 10_000);

    socket.send({ type: "req", id: 1, method: "chat.send", params: { text: "first" } });
    setTimeout(release, 300);
    const answer = await socket.next((f) => f.type === "res" && f.id === 1, 5_000);
    expect(answer).toMatchObject({ ok: true, payload: { text: "heard: first" } });
  });
});
