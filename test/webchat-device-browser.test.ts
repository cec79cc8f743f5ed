/**
 * The console's chat panel as a key device in a real browser (Chromium via playwright-core), on SQLite and on one Redis
 * shared by two gateway instances (the page on A, the owner approving through B): it makes a non-extractable key in
 * IndexedDB, pairs, reloads and is let in again without a code; clearing the site's storage makes it a new device that
 * must pair again. With GATEHOUSE_DOCS_SCREENSHOT=1 the SQLite run writes the flow's screenshots to docs/.
 */
import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildConsoleForTest } from "./console-helpers.js";
import { OWNER_TOKEN, startGateway, type TestGateway } from "./gateway-helpers.js";
import { allBackends } from "./support/backends.js";
import { eventually, launchChromium } from "./support/browser.js";

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
      // Playwright's own waits (each with a deadline): this also runs in beforeAll, where expect.poll cannot.
      const token = page.getByLabel("Owner or admin token");
      await token.waitFor({ timeout: 15_000 });
      await token.fill(OWNER_TOKEN);
      await page.keyboard.press("Enter");
      await page.locator(".live-status", { hasText: /^Live$/ }).waitFor({ timeout: 15_000 });
    }

    /** A fresh page load (a new socket), then Connect in the chat panel. */
    async function connectChat(): Promise<void> {
      await load();
      await eventually(() => page.getByRole("button", { name: "Connect" }).isVisible()).toBe(true);
      await page.getByLabel("Your name").fill("Key visitor");
      await page.getByRole("button", { name: "Connect" }).click();
    }

    /** Waits for the code, approves it through instance B's API, and waits until the panel is connected. */
    async function pairThroughB(shotName = "waiting"): Promise<string> {
      const code = page.getByTestId("chat-code");
      await eventually(() => code.isVisible()).toBe(true);
      const shown = (await code.textContent())!;
      expect(shown).toMatch(CODE);
      await shot(shotName);
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
      const key = await page.evaluate(async () => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open("gatehouse");
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        const pair = await new Promise<CryptoKeyPair>((resolve, reject) => {
          const request = db.transaction("device-keys").objectStore("device-keys").get("webchat");
          request.onsuccess = () => resolve(request.result as CryptoKeyPair);
          request.onerror = () => reject(request.error);
        });
        db.close();
        const exported = await crypto.subtle.exportKey("pkcs8", pair.privateKey).then(
          () => "exported",
          (error: Error) => error.name,
        );
        return { algorithm: pair.privateKey.algorithm.name, extractable: pair.privateKey.extractable, exported };
      });
      expect(["Ed25519", "ECDSA"]).toContain(key.algorithm);
      expect(key).toMatchObject({ extractable: false, exported: "InvalidAccessError" });

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
  });
}
