/**
 * The console's chat panel as a key device in a real browser (Chromium via playwright-core), on SQLite and on one Redis
 * shared by two gateway instances (the page on A, the owner approving through B): it makes a non-extractable key in
 * IndexedDB, pairs, reloads and is let in again without a code; clearing the site's storage makes it a new device that
 * must pair again. A browser without Ed25519 in WebCrypto makes an ECDSA P-256 key instead and pairs the same way. While
 * webchat.deviceProof is optional, the console's pending and paired lists mark name-only devices as legacy. With
 * GATEHOUSE_DOCS_SCREENSHOT=1 the SQLite run writes the flow's screenshots to docs/.
 */
import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildConsoleForTest } from "./console-helpers.js";
import { OWNER_TOKEN, startGateway, TestSocket, type TestGateway } from "./gateway-helpers.js";
import { allBackends } from "./support/backends.js";
import { eventually, launchChromium } from "./support/browser.js";
import { connectKeyDevice, makeKeyDevice } from "./support/key-device.js";
import { storedDeviceKey as storedKey } from "./support/stored-device-key.js";

const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const DOCS = new URL("../docs/", import.meta.url);
const CODE = /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/;

const backends = (await allBackends()).filter((b) => b.name === "sqlite" || b.name === "redis");
afterAll(async () => {
  for (const backend of backends) await backend.cleanup();
});

let built: Awaited<ReturnType<typeof buildConsoleForTest>>;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  built = await buildConsoleForTest();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  built?.cleanup();
});

/** Signs the console on `page` (already loaded) in as the owner and waits until its live feed is up. */
async function signInConsole(page: Page): Promise<void> {
  // Playwright's own waits (each with a deadline): this also runs in beforeAll, where expect.poll cannot.
  const token = page.getByLabel("Owner or admin token");
  await token.waitFor({ timeout: 15_000 });
  await token.fill(OWNER_TOKEN);
  await page.keyboard.press("Enter");
  await page.locator(".live-status", { hasText: /^Live$/ }).waitFor({ timeout: 15_000 });
}

for (const backend of backends) {
  describe(`the chat panel is a key device (${backend.name}, two instances)`, () => {
    let store: string | null = null;
    let a: TestGateway;
    let b: TestGateway;
    let context: BrowserContext;
    let page: Page;

    async function shot(name: string): Promise<void> {
      await page.screenshot({ path: new URL(`device-${backend.name}-${name}.png`, ARTIFACTS).pathname });
      if (backend.name === "sqlite" && process.env.GATEHOUSE_DOCS_SCREENSHOT === "1") {
        await page.locator("#view-chat").screenshot({ path: new URL(`device-${name}.png`, DOCS).pathname });
      }
    }

    /** Loads the console's chat view afresh (a reload when the page is already there: a hash change loads nothing). */
    async function load(): Promise<void> {
      const target = `${a.url}/console/#chat`;
      if (page.url() === target) await page.reload();
      else await page.goto(target);
    }

    async function signIn(): Promise<void> {
      await load();
      await signInConsole(page);
    }

    /** A fresh page load (a new socket), then Connect in the chat panel. */
    async function connectChat(): Promise<void> {
      await load();
      await eventually(() => page.getByRole("button", { name: "Connect" }).isVisible()).toBe(true);
      await page.getByLabel("Your name").fill("Key visitor");
      await page.getByRole("button", { name: "Connect" }).click();
    }

    /** Waits for the code, approves it through instance B's API, and waits until the panel is connected. */
    async function pairThroughB(shotName: string | null = "waiting"): Promise<string> {
      const code = page.getByTestId("chat-code");
      await eventually(() => code.isVisible()).toBe(true);
      const shown = (await code.textContent())!;
      expect(shown).toMatch(CODE);
      if (shotName !== null) await shot(shotName);
      const approved = await b.api("POST", "/api/pairing/approve", {
        token: OWNER_TOKEN,
        body: { channelType: "webchat", code: shown },
      });
      expect(approved.body).toEqual({ approved: true });
      await eventually(() => page.locator(".chat-status").textContent()).toBe("Connected. You can chat now.");
      return shown;
    }

    function shownDeviceId(): Promise<string> {
      return page
        .getByTestId("chat-device")
        .textContent()
        .then((text) => (text ?? "").replace("This browser is device ", ""));
    }

    beforeAll(async () => {
      if (!backend.available) return;
      store = backend.freshUrl();
      const storeKind = { name: backend.name, make: () => ({ url: store!, cleanup() {} }) };
      const common = { storeKind, deviceProof: "required" as const, consoleDir: built.dir };
      a = await startGateway(common);
      b = await startGateway(common);
      context = await browser.newContext({ viewport: { width: 900, height: 640 } });
      page = await context.newPage();
      page.on("pageerror", (error) => {
        throw error;
      });
      await signIn();
    }, 60_000);

    afterAll(async () => {
      await context?.close();
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it("makes a non-extractable key in IndexedDB, pairs, reloads and stays paired", async ({ skip }) => {
      if (!store) return skip();
      await connectChat();
      await pairThroughB();
      const device = await shownDeviceId();
      expect(device).toMatch(/^dk1\.[A-Za-z0-9_-]{43}$/);
      await page.getByLabel("Message", { exact: true }).fill("hello with a key");
      await page.keyboard.press("Enter");
      await eventually(() => page.locator(".message.agent p").last().textContent()).toBe("echo: hello with a key");
      await shot("connected");
      const paired = await a.api("GET", "/api/pairing/paired", { token: OWNER_TOKEN });
      expect(paired.body.paired.map((p: { channelId: string }) => p.channelId)).toContain(device);

      // The key is in IndexedDB and its private half cannot be read by the page.
      const key = await storedKey(page);
      expect(["Ed25519", "ECDSA"]).toContain(key.algorithm);
      expect(key).toMatchObject({ extractable: false, exported: "InvalidAccessError" });
      // The id the gateway paired is the one derived from that key.
      expect(key.deviceId).toBe(device);

      await page.reload();
      await connectChat();
      await eventually(() => page.locator(".chat-status").textContent()).toBe("Connected. You can chat now.");
      expect(await page.getByTestId("chat-code").count()).toBe(0);
      expect(await shownDeviceId()).toBe(device);
      await shot("reloaded");
    }, 60_000);

    it("clearing the site's storage makes the browser a new device that must pair again", async ({ skip }) => {
      if (!store) return skip();
      await connectChat();
      await eventually(() => page.locator(".chat-status").textContent()).toBe("Connected. You can chat now.");
      const before = await shownDeviceId();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Storage.clearDataForOrigin", { origin: new URL(a.url).origin, storageTypes: "all" });
      await cdp.detach();
      await signIn();
      await connectChat();
      await pairThroughB("waiting-after-clear");
      const after = await shownDeviceId();
      expect(after).toMatch(/^dk1\./);
      expect(after).not.toBe(before);
    }, 60_000);

    it("a browser without Ed25519 in WebCrypto makes an ECDSA P-256 key, pairs and stays paired", async ({ skip }) => {
      if (!store) return skip();
      // A fresh profile whose WebCrypto refuses Ed25519, as browsers without it do (Chromium has it, so it is taken away).
      await context.close();
      context = await browser.newContext({ viewport: { width: 900, height: 640 } });
      await context.addInitScript(() => {
        const generateKey = SubtleCrypto.prototype.generateKey;
        SubtleCrypto.prototype.generateKey = function (this: SubtleCrypto, ...args: Parameters<typeof generateKey>) {
          const [algorithm] = args;
          const name = typeof algorithm === "string" ? algorithm : algorithm.name;
          if (name.toLowerCase() === "ed25519")
            return Promise.reject(new DOMException("Unrecognized algorithm name", "NotSupportedError"));
          return generateKey.apply(this, args);
        } as typeof generateKey;
      });
      page = await context.newPage();
      await signIn();
      await connectChat();
      await pairThroughB(null);
      const device = await shownDeviceId();
      expect(device).toMatch(/^dk1\.[A-Za-z0-9_-]{43}$/);
      expect(await storedKey(page)).toMatchObject({
        algorithm: "ECDSA",
        extractable: false,
        exported: "InvalidAccessError",
      });
      await page.getByLabel("Message", { exact: true }).fill("hello with P-256");
      await page.keyboard.press("Enter");
      await eventually(() => page.locator(".message.agent p").last().textContent()).toBe("echo: hello with P-256");

      await page.reload();
      await connectChat();
      await eventually(() => page.locator(".chat-status").textContent()).toBe("Connected. You can chat now.");
      expect(await page.getByTestId("chat-code").count()).toBe(0);
      expect(await shownDeviceId()).toBe(device);
    }, 60_000);
  });

  describe(`the console marks name-only devices while deviceProof is optional (${backend.name}, two instances)`, () => {
    let store: string | null = null;
    let a: TestGateway;
    let b: TestGateway;
    let context: BrowserContext;
    const sockets: TestSocket[] = [];

    beforeAll(async () => {
      if (!backend.available) return;
      store = backend.freshUrl();
      // No deviceProof here and none in the store: optional, as for a data directory an older gatehouse made.
      const common = {
        storeKind: { name: backend.name, make: () => ({ url: store!, cleanup() {} }) },
        consoleDir: built.dir,
      };
      a = await startGateway(common);
      b = await startGateway(common);
      context = await browser.newContext({ viewport: { width: 900, height: 640 } });
    }, 60_000);

    afterAll(async () => {
      for (const socket of sockets) socket.ws.terminate();
      await context?.close();
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it("the pending and paired lists mark the legacy device, not the key device", async ({ skip }) => {
      if (!store) return skip();
      const legacyId = `legacy-console-${Math.random().toString(36).slice(2)}-device`;
      const legacy = await TestSocket.open(b.wsUrl);
      sockets.push(legacy);
      legacy.send({ type: "connect", params: { deviceId: legacyId, name: "Old browser" } });
      const legacyCode = (await legacy.nextOfType("pairing", 10_000)).code as string;
      const key = makeKeyDevice();
      const keyed = await connectKeyDevice(b.wsUrl, key, { name: "Key browser" });
      sockets.push(keyed.socket);
      expect(keyed.first.type).toBe("pairing");

      const page = await context.newPage();
      await page.goto(`${a.url}/console/#pending`);
      await signInConsole(page);
      const pending = (id: string) => page.locator("#view-pending li.pending-card").filter({ hasText: id });
      await eventually(() => pending(legacyId).locator(".legacy-device").allTextContents()).toEqual([
        "legacy: no device key",
      ]);
      await eventually(() => pending(key.deviceId).isVisible()).toBe(true);
      expect(await pending(key.deviceId).locator(".legacy-device").count()).toBe(0);

      for (const code of [legacyCode, keyed.first.code as string]) {
        const approved = await b.api("POST", "/api/pairing/approve", {
          token: OWNER_TOKEN,
          body: { channelType: "webchat", code },
        });
        expect(approved.body).toEqual({ approved: true });
      }
      await legacy.nextOfType("hello", 10_000);
      await keyed.socket.nextOfType("hello", 10_000);

      await page.goto(`${a.url}/console/#paired`);
      const paired = (id: string) => page.locator(`#view-paired li.card[data-channel-id="${id}"]`);
      await eventually(() => paired(legacyId).locator(".legacy-device").allTextContents()).toEqual([
        "legacy: no device key",
      ]);
      await eventually(() => paired(key.deviceId).isVisible()).toBe(true);
      expect(await paired(key.deviceId).locator(".legacy-device").count()).toBe(0);
    }, 60_000);
  });
}
