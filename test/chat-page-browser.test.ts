/**
 * The public webchat page (/chat/) in a real browser (Chromium via playwright-core), on a SQLite file: a visitor with
 * no token and no console session opens it and is shown a pairing code; the owner approves the code through the HTTP
 * API; the page opens the chat and shows the echo agent's reply, as text. A reload is the same key device (no new code);
 * the gateway going away and coming back is retried and let in again; clearing the site's storage makes a new device
 * with a new code; a denied visitor is told so and the page does not ask again by itself. With
 * GATEHOUSE_DOCS_SCREENSHOT=1 it writes docs/webchat-page-waiting.png and docs/webchat-page.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsoleForTest } from "./console-helpers.js";
import { OWNER_TOKEN, startGateway, type TestGateway } from "./gateway-helpers.js";
import { eventually, launchChromium } from "./support/browser.js";
import { storedDeviceKey } from "./support/stored-device-key.js";

const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const DOCS = new URL("../docs/", import.meta.url);
const CODE = /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/;
const CONNECTED = "Connected. You can chat now.";

let built: Awaited<ReturnType<typeof buildConsoleForTest>>;
let browser: Browser;
let dataDir: string;
let gw: TestGateway;
let context: BrowserContext;
let page: Page;
/** Content-Security-Policy violations the page reported (none may happen). */
const cspViolations: string[] = [];

function startOn(port: number): Promise<TestGateway> {
  const url = `sqlite:${join(dataDir, "gatehouse.db")}`;
  return startGateway({
    storeKind: { name: "sqlite", make: () => ({ url, cleanup() {} }) },
    deviceProof: "required",
    consoleDir: built.dir,
    http: { port },
  });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "gh-chat-page-"));
  built = await buildConsoleForTest();
  browser = await launchChromium();
  gw = await startOn(0);
  context = await browser.newContext({ viewport: { width: 760, height: 720 } });
  page = await context.newPage();
  page.on("pageerror", (error) => {
    throw error;
  });
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await gw?.stop();
  built?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: new URL(`chat-page-${name}.png`, ARTIFACTS).pathname, fullPage: true });
  if (process.env.GATEHOUSE_DOCS_SCREENSHOT === "1") {
    const file = name === "chat" ? "webchat-page.png" : `webchat-page-${name}.png`;
    await page.screenshot({ path: new URL(file, DOCS).pathname, fullPage: true });
  }
}

const status = () => page.getByTestId("chat-status");
/** The status line's message (without its button). */
const statusText = () => status().locator("p").textContent();
const statusButton = () => status().getByRole("button");
const shownCode = () => page.getByTestId("pairing-code");
const message = () => page.getByLabel("Message", { exact: true });
const lastReply = () => page.locator(".message.agent p").last();

function shownDeviceId(): Promise<string> {
  return page
    .getByTestId("chat-device")
    .textContent()
    .then((text) => (text ?? "").replace("This browser is device ", ""));
}

async function pendingWebchat(): Promise<{ code: string; channelId: string }[]> {
  const pending = await gw.api("GET", "/api/pairing/pending?channelType=webchat", { token: OWNER_TOKEN });
  expect(pending.status).toBe(200);
  return pending.body.pending;
}

/** Waits for the page's code and checks the gateway holds a request with that code for this browser's key. */
async function waitForCode(): Promise<string> {
  await eventually(() => shownCode().isVisible()).toBe(true);
  const code = (await shownCode().textContent())!;
  expect(code).toMatch(CODE);
  const device = await shownDeviceId();
  expect((await storedDeviceKey(page)).deviceId).toBe(device);
  expect(await pendingWebchat()).toContainEqual(expect.objectContaining({ code, channelId: device }));
  return code;
}

async function chat(text: string): Promise<void> {
  await message().fill(text);
  await page.keyboard.press("Enter");
  await eventually(() => lastReply().textContent()).toBe(`echo: ${text}`);
  // The reply's last words and the answer that ends it are two frames, each its own event in the page: the text can be
  // complete a moment before the reply stops being busy.
  await eventually(() => lastReply().getAttribute("aria-busy")).toBeNull();
}

describe("the public chat page (/chat/)", () => {
  let device = "";

  it("shows a visitor a pairing code, then the chat once the owner approves it through the API", async () => {
    await page.goto(`${gw.url}/chat/`);
    const code = await waitForCode();
    expect(await statusText()).toBe("Waiting for the owner to approve this browser…");
    expect(await page.getByText("ask the owner of this chat to approve this code").isVisible()).toBe(true);
    expect(await page.getByText("Keep this page open: it waits").isVisible()).toBe(true);
    expect(await page.locator(".pairing-panel .countdown").textContent()).toMatch(
      /^The code expires in (\d+:)?\d+:\d\d\.$/,
    );
    expect(await message().isDisabled()).toBe(true);
    // No console session was involved: the browser has no cookie at all.
    expect(await context.cookies()).toEqual([]);
    await shot("waiting");

    const approved = await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code },
    });
    expect(approved.body).toEqual({ approved: true });
    await eventually(() => statusText()).toBe(CONNECTED);
    expect(await shownCode().isVisible()).toBe(false);

    // Markup from the visitor comes back from the agent as text, never as elements.
    await chat("hello <b>agent</b> <img src=x>");
    expect(await page.locator(".transcript b, .transcript img").count()).toBe(0);
    await chat("what can you do?");
    await shot("chat");

    device = await shownDeviceId();
    expect(device).toMatch(/^dk1\.[A-Za-z0-9_-]{43}$/);
    const key = await storedDeviceKey(page);
    expect(key).toMatchObject({ extractable: false, exported: "InvalidAccessError", deviceId: device });
    expect(["Ed25519", "ECDSA"]).toContain(key.algorithm);
    const paired = await gw.api("GET", "/api/pairing/paired", { token: OWNER_TOKEN });
    expect(paired.body.paired.map((p: { channelId: string }) => p.channelId)).toContain(device);
  }, 60_000);

  it("after a reload it is the same device, let in without a code", async () => {
    await page.reload();
    await eventually(() => statusText()).toBe(CONNECTED);
    expect(await shownCode().isVisible()).toBe(false);
    expect(await shownDeviceId()).toBe(device);
    expect(await pendingWebchat()).toEqual([]);
    await chat("back again");
  }, 60_000);

  it("says when the gateway is unavailable, retries, and is let in again when it is back", async () => {
    const port = Number(new URL(gw.url).port);
    await gw.stop();
    await eventually(() => status().getAttribute("data-phase")).toBe("offline");
    expect(await statusText()).toMatch(/^The gateway is unavailable\. Trying again in \d+ s…$/);
    expect(await statusButton().textContent()).toBe("Try now");
    expect(await message().isDisabled()).toBe(true);
    gw = await startOn(port);
    await eventually(() => statusText()).toBe(CONNECTED);
    expect(await shownCode().isVisible()).toBe(false);
    expect(await pendingWebchat()).toEqual([]);
    await chat("still here");
  }, 60_000);

  it("clearing the site's storage makes the browser a new device that must pair again", async () => {
    const cdp = await context.newCDPSession(page);
    await cdp.send("Storage.clearDataForOrigin", { origin: new URL(gw.url).origin, storageTypes: "all" });
    await cdp.detach();
    await page.reload();
    await waitForCode();
    const after = await shownDeviceId();
    expect(after).toMatch(/^dk1\./);
    expect(after).not.toBe(device);
    device = after;
  }, 60_000);

  it("a denied visitor is told so, and the page does not ask again by itself", async () => {
    const code = (await shownCode().textContent())!;
    const denied = await gw.api("POST", "/api/pairing/deny", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code },
    });
    expect(denied.body).toEqual({ denied: true });
    await eventually(() => status().getAttribute("data-phase")).toBe("stopped");
    expect(await statusText()).toBe("Your pairing request was denied.");
    expect(await statusButton().textContent()).toBe("Ask again");
    expect(await shownCode().isVisible()).toBe(false);
    expect(await message().isDisabled()).toBe(true);
    // Longer than the first retry delay: nothing reconnects and no new request appears.
    await page.waitForTimeout(2_500);
    expect(await status().getAttribute("data-phase")).toBe("stopped");
    expect((await pendingWebchat()).filter((p) => p.channelId === device)).toEqual([]);
    await shot("denied");
    // Nothing the page loaded or did was refused by its Content-Security-Policy.
    expect(cspViolations).toEqual([]);
  }, 60_000);
});

describe("the public chat page when a request expires", () => {
  let short: TestGateway;
  let shortContext: BrowserContext;

  beforeAll(async () => {
    // The socket stops waiting after 3 s, as it does when the store's code expires.
    short = await startGateway({ consoleDir: built.dir, deviceProof: "required", websocket: { pairingWaitMs: 3_000 } });
    shortContext = await browser.newContext({ viewport: { width: 760, height: 720 } });
  }, 60_000);

  afterAll(async () => {
    await shortContext?.close();
    await short?.stop();
  });

  it("tells the visitor the request expired and asks again only when they say so", async () => {
    const visitor = await shortContext.newPage();
    visitor.on("pageerror", (error) => {
      throw error;
    });
    await visitor.goto(`${short.url}/chat/`);
    const code = visitor.getByTestId("pairing-code");
    await eventually(() => code.isVisible()).toBe(true);
    const visitorStatus = visitor.getByTestId("chat-status");
    await eventually(() => visitorStatus.getAttribute("data-phase")).toBe("stopped");
    expect(await visitorStatus.locator("p").textContent()).toBe("Your pairing request expired.");
    expect(await code.isVisible()).toBe(false);
    await visitor.waitForTimeout(1_500);
    expect(await visitorStatus.getAttribute("data-phase")).toBe("stopped");

    await visitorStatus.getByRole("button", { name: "Ask again" }).click();
    await eventually(() => code.isVisible()).toBe(true);
    expect(await code.textContent()).toMatch(CODE);
    expect(await visitorStatus.getAttribute("data-phase")).toBe("waiting");
  }, 60_000);
});
