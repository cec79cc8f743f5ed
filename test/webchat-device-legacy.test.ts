/**
 * The upgrade path of issue 19: `webchat.deviceProof` in the store (settings on every backend), legacy name-only devices
 * working and marked while it is optional, and the owner's one step (`gatehouse pairing require-proof`) after which
 * they are revoked or denied, refused on every instance, and must pair again with a key. On SQLite and on one Redis,
 * two gateway instances each; the new-store default through `gatehouse start`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStores } from "../src/stores/open.js";
import { DEVICE_PROOF_SETTING } from "../src/stores/settings.js";
import type { Stores } from "../src/stores/types.js";
import { runGatehouse, startGatehouse } from "./cli-helpers.js";
import { OWNER_TOKEN, startGateway, TestSocket, type Frame, type TestGateway } from "./gateway-helpers.js";
import { backendsOfThisFile } from "./support/backends.js";
import { connectKeyDevice, makeKeyDevice } from "./support/key-device.js";

/** The gateway secret as GATEHOUSE_SECRET gives it, so the CLI and the in-process gateways share the store. */
const SECRET_TEXT = "device-legacy-test-secret-0123456789abcdefgh";
const SECRET = Buffer.from(SECRET_TEXT, "utf8");

const backends = await backendsOfThisFile();

describe("settings in the store (webchat.deviceProof lives there)", () => {
  for (const backend of backends) {
    it(`${backend.name}: get, setIfAbsent (first wins), set; a second opener sees the same value`, async ({ skip }) => {
      if (!backend.available) return skip();
      const store = backend.freshUrl();
      const opened: Stores[] = [];
      try {
        const first = await openStores(store, { secret: SECRET });
        opened.push(first);
        const settings = first.settings!;
        expect(await settings.get(DEVICE_PROOF_SETTING)).toBeNull();
        expect(await settings.setIfAbsent(DEVICE_PROOF_SETTING, "required")).toBe("required");
        expect(await settings.setIfAbsent(DEVICE_PROOF_SETTING, "optional")).toBe("required");
        await settings.set(DEVICE_PROOF_SETTING, "optional");
        expect(await settings.get(DEVICE_PROOF_SETTING)).toBe("optional");
        if (backend.name !== "memory") {
          const second = await openStores(store, { secret: SECRET });
          opened.push(second);
          expect(await second.settings!.get(DEVICE_PROOF_SETTING)).toBe("optional");
          await second.settings!.set(DEVICE_PROOF_SETTING, "required");
          expect(await settings.get(DEVICE_PROOF_SETTING)).toBe("required");
        }
      } finally {
        for (const stores of opened) await stores.close();
      }
    });
  }
});

function legacyId(label: string): string {
  return `legacy-${label}-${Math.random().toString(36).slice(2)}-device`;
}

/** A name-only device connects; resolves with its socket and the first answer (pairing, hello or error). */
async function legacyConnect(gw: TestGateway, deviceId: string): Promise<{ socket: TestSocket; first: Frame }> {
  const socket = await TestSocket.open(gw.wsUrl);
  socket.send({ type: "connect", params: { deviceId, name: "Old Browser" } });
  const first = await socket.next((f) => f.type === "pairing" || f.type === "hello" || f.type === "error", 10_000);
  return { socket, first };
}

for (const backend of backends.filter((b) => b.name === "sqlite" || b.name === "redis")) {
  describe(`upgrade path on ${backend.name}, two gateway instances, deviceProof not configured`, () => {
    let store: string | null = null;
    let a: TestGateway;
    let b: TestGateway;
    let dataDir: string;
    const sockets: TestSocket[] = [];

    beforeAll(async () => {
      if (!backend.available) return;
      store = backend.freshUrl();
      dataDir = mkdtempSync(join(tmpdir(), "gh-device-legacy-cli-"));
      const common = {
        storeKind: { name: backend.name, make: () => ({ url: store!, cleanup() {} }) },
        secret: SECRET,
        websocket: { webchatRequestLimit: false as const },
      };
      a = await startGateway(common);
      b = await startGateway(common);
    }, 30_000);

    afterAll(async () => {
      for (const socket of sockets) socket.ws.terminate();
      await Promise.all([a?.stop(), b?.stop()]);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    const cli = (...args: string[]) =>
      runGatehouse([...args, "--data-dir", dataDir, "--store", store!], { env: { GATEHOUSE_SECRET: SECRET_TEXT } });

    it("legacy devices work and are marked; one require-proof step revokes and denies them everywhere; they must pair again with a key", async ({
      skip,
    }) => {
      if (!store) return skip();
      // Optional (nothing stored): a name-only device pairs through A and chats.
      const legacy = legacyId("paired");
      const old = await legacyConnect(a, legacy);
      sockets.push(old.socket);
      expect(old.first.type).toBe("pairing");
      expect(
        (
          await b.api("POST", "/api/pairing/approve", {
            token: OWNER_TOKEN,
            body: { channelType: "webchat", code: old.first.code },
          })
        ).body,
      ).toEqual({ approved: true });
      await old.socket.nextOfType("hello", 10_000);
      expect((await old.socket.request("c1", "chat.send", { text: "still here" })).ok).toBe(true);
      // Another waits on B; a key device is paired too.
      const waiting = await legacyConnect(b, legacyId("waiting"));
      sockets.push(waiting.socket);
      expect(waiting.first.type).toBe("pairing");
      const key = makeKeyDevice();
      const keyed = await connectKeyDevice(a.wsUrl, key);
      sockets.push(keyed.socket);
      await a.api("POST", "/api/pairing/approve", {
        token: OWNER_TOKEN,
        body: { channelType: "webchat", code: keyed.first.code },
      });
      await keyed.socket.nextOfType("hello", 10_000);

      // The CLI lists mark the name-only devices, not the key device.
      const paired = await cli("pairing", "paired");
      expect(paired.code).toBe(0);
      expect(paired.stdout).toContain(`${legacy} (legacy: no device key)`);
      expect(paired.stdout).toContain(key.deviceId);
      expect(paired.stdout).not.toContain(`${key.deviceId} (legacy`);
      const pending = await cli("pairing", "list", "webchat");
      expect(pending.stdout).toMatch(/\(legacy: no device key\)/);

      // The one step.
      const step = await cli("pairing", "require-proof", "--json");
      expect(step.stderr).toBe("");
      expect(JSON.parse(step.stdout)).toEqual({ deviceProof: "required", revoked: 1, denied: 1 });

      // Open sockets of name-only devices close on both instances; the key device's socket stays.
      expect((await old.socket.closed).code).toBe(4403);
      expect((await waiting.socket.closed).code).toBe(4403);
      expect((await keyed.socket.request("k1", "chat.send", { text: "key still works" })).ok).toBe(true);
      // Every instance now refuses name-only connects, the revoked one included.
      for (const gw of [a, b]) {
        const again = await legacyConnect(gw, legacy);
        sockets.push(again.socket);
        expect(again.first.error?.message).toMatch(/requires device keys/);
        expect((await again.socket.closed).code).toBe(4401);
      }
      // The old browser pairs again, with a key this time.
      const fresh = makeKeyDevice();
      const renewed = await connectKeyDevice(b.wsUrl, fresh);
      sockets.push(renewed.socket);
      expect(renewed.first.type).toBe("pairing");

      // allow-legacy lets them connect again (they are still unpaired, so they get a code).
      expect((await cli("pairing", "allow-legacy")).code).toBe(0);
      const back = await legacyConnect(a, legacyId("back"));
      sockets.push(back.socket);
      expect(back.first.type).toBe("pairing");
    }, 90_000);
  });
}

describe("a name-only device still paired when keys become required", () => {
  // Requests re-admit the device (a revoke stops it at once); the key policy itself is read at connect and on every
  // heartbeat, so a device that a require-proof step failed to revoke (the store flipped by hand here) stops within one.
  it("sqlite: its socket is closed with 4401 at the next heartbeat, and it cannot connect again", async ({ skip }) => {
    const backend = backends.find((b) => b.name === "sqlite");
    if (!backend?.available) return skip();
    const store = backend.freshUrl();
    const gw = await startGateway({
      storeKind: { name: backend.name, make: () => ({ url: store, cleanup() {} }) },
      secret: SECRET,
      websocket: { webchatRequestLimit: false as const, heartbeatMs: 300 },
    });
    const opened = await openStores(store, { secret: SECRET });
    try {
      const device = legacyId("heartbeat");
      const old = await legacyConnect(gw, device);
      expect(old.first.type).toBe("pairing");
      await gw.api("POST", "/api/pairing/approve", {
        token: OWNER_TOKEN,
        body: { channelType: "webchat", code: old.first.code },
      });
      await old.socket.nextOfType("hello", 10_000);
      expect((await old.socket.request("h1", "chat.send", { text: "before" })).ok).toBe(true);
      await opened.settings!.set(DEVICE_PROOF_SETTING, "required");
      const refused = await old.socket.nextOfType("error", 10_000);
      expect(refused.error.message).toMatch(/requires device keys/);
      expect((await old.socket.closed).code).toBe(4401);
      const again = await legacyConnect(gw, device);
      expect(again.first.error?.message).toMatch(/requires device keys/);
      again.socket.ws.terminate();
    } finally {
      await opened.close();
      await gw.stop();
    }
  }, 30_000);
});

describe("the default for new data directories (gatehouse start)", () => {
  it("a new store starts with device keys required; an existing store with name-only devices stays optional", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "gh-device-new-"));
    const existing = mkdtempSync(join(tmpdir(), "gh-device-old-"));
    try {
      // New: nothing in the store at the first start.
      const started = await startGatehouse(["--data-dir", fresh, "--port", "0"]);
      try {
        const wsUrl = `${started.url.replace(/^http/, "ws")}/ws`;
        const socket = await TestSocket.open(wsUrl);
        socket.send({ type: "connect", params: { deviceId: legacyId("new") } });
        expect((await socket.nextOfType("error", 10_000)).error.message).toMatch(/requires device keys/);
        const key = await connectKeyDevice(wsUrl, makeKeyDevice());
        expect(key.first.type).toBe("pairing");
        key.socket.close();
      } finally {
        await started.stop();
      }
      // Existing: a store that already holds a paired name-only device (an older gatehouse's data directory).
      const store = `sqlite:${join(existing, "gatehouse.db")}`;
      const seed = await runGatehouse([
        "pairing",
        "invite",
        "webchat",
        "--json",
        "--data-dir",
        existing,
        "--store",
        store,
      ]);
      const { code } = JSON.parse(seed.stdout) as { code: string };
      const oldDevice = legacyId("old");
      expect(
        (
          await runGatehouse([
            "pairing",
            "approve",
            "webchat",
            code,
            "--user-id",
            oldDevice,
            "--data-dir",
            existing,
            "--store",
            store,
          ])
        ).code,
      ).toBe(0);
      const upgraded = await startGatehouse(["--data-dir", existing, "--store", store, "--port", "0"]);
      try {
        const socket = await TestSocket.open(`${upgraded.url.replace(/^http/, "ws")}/ws`);
        socket.send({ type: "connect", params: { deviceId: oldDevice } });
        expect((await socket.nextOfType("hello", 10_000)).principal.userId).toBe(oldDevice);
        socket.close();
      } finally {
        await upgraded.stop();
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
      rmSync(existing, { recursive: true, force: true });
    }
  }, 90_000);
});
