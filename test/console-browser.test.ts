import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildConsoleForTest, withCookie } from "./console-helpers.js";
import {
  connectWithToken,
  deviceId,
  OWNER_TOKEN,
  startGateway,
  TestSocket,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";
import { eventually, launchChromium } from "./support/browser.js";

/**
 * The owner console in a real browser (the Debian Chromium, driven by playwright-core) against a real gateway:
 * sign-in, live pending requests from real webchat senders, approve / deny, revoke, invites, session lookup, audit
 * paging, the webchat panel, a hostile same-site page, phone width. Screenshots of each view go to test/artifacts/;
 * with GATEHOUSE_DOCS_SCREENSHOT=1 the pending view is also written to docs/console.png for the README.
 */
const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const DOCS_SCREENSHOT = new URL("../docs/console.png", import.meta.url);
const CODE = /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/;

let built: Awaited<ReturnType<typeof buildConsoleForTest>>;
let gw: TestGateway;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const sockets: TestSocket[] = [];
/** The console cookie as the browser holds it, kept to prove it is dead after sign-out. */
let signedInCookie = "";

/** Polls until the browser shows what is expected; generous, because CI machines are busy (no timing is asserted). */

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: new URL(`console-${name}.png`, ARTIFACTS).pathname, fullPage: true });
}

async function open(view: string): Promise<void> {
  await page
    .getByRole("navigation", { name: "Console sections" })
    .getByRole("link", { name: new RegExp(`^${view}`) })
    .click();
  await eventually(() => page.evaluate(() => location.hash)).toBe(`#${view.toLowerCase().replace(" log", "")}`);
}

/** Locators inside one view only (hidden views stay in the document). */
function inView(id: string): import("playwright-core").Locator {
  return page.locator(`#view-${id}`);
}

/** A real token-less webchat sender asking for access. */
async function webchatSender(name: string): Promise<{ socket: TestSocket; code: string; device: string }> {
  const socket = await TestSocket.open(gw.wsUrl);
  sockets.push(socket);
  const device = deviceId(name.toLowerCase().replace(/[^a-z]/g, ""));
  socket.send({ type: "connect", params: { deviceId: device, name } });
  const pairing = await socket.nextOfType("pairing");
  return { socket, code: pairing.code, device };
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  built = await buildConsoleForTest();
  gw = await startGateway({ consoleDir: built.dir });
  browser = await launchChromium();
  context = await browser.newContext({
    viewport: { width: 1100, height: 760 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  page = await context.newPage();
  page.on("pageerror", (error) => {
    throw error;
  });
});

afterAll(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await browser?.close();
  await gw?.stop();
  built?.cleanup();
});

describe("owner console in Chromium", () => {
  it("refuses a wrong token and a non-owner token, and sets no cookie", async () => {
    await page.goto(`${gw.url}/console/`);
    const token = page.getByLabel("Owner or admin token");
    await eventually(() => token.isVisible()).toBe(true);
    await shot("signin");
    await token.fill("owner-token-but-wrong-0123456789");
    await page.getByRole("button", { name: "Sign in" }).click();
    await eventually(() => page.getByRole("alert").textContent()).toMatch(/not accepted/);
    await token.fill(USER_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await eventually(() => page.getByRole("alert").textContent()).toMatch(/owner or admin/);
    expect(await context.cookies()).toEqual([]);
    expect(await token.inputValue()).toBe("");
  });

  it("signs in with the owner token, keeping it out of page storage; the cookie is HttpOnly and SameSite=Strict", async () => {
    await page.getByLabel("Owner or admin token").fill(OWNER_TOKEN);
    await page.keyboard.press("Enter");
    await eventually(() => page.locator(".live-status").textContent()).toBe("Live");
    await eventually(() => page.getByText("No one is waiting for approval.").isVisible()).toBe(true);
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(cookies[0]!.value).not.toContain(OWNER_TOKEN);
    signedInCookie = `${cookies[0]!.name}=${cookies[0]!.value}`;
    const storage = await page.evaluate(() => ({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookie: document.cookie,
      html: document.documentElement.outerHTML,
    }));
    expect(storage.local).toBe("{}");
    expect(storage.session).toBe("{}");
    expect(storage.cookie).toBe("");
    expect(storage.html).not.toContain(OWNER_TOKEN);
  });

  it("shows pending requests from real senders live, without a reload; Approve admits the sender, Deny refuses the other", async () => {
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const zoe = await webchatSender("Zoe");
    // A sender-chosen name is data, never markup.
    const mallory = await webchatSender(`Mallory <img src=x onerror="window.pwned=1">`);
    const zoeCard = page.locator(`li[data-code="${zoe.code}"]`);
    const malloryCard = page.locator(`li[data-code="${mallory.code}"]`);
    await eventually(() => zoeCard.isVisible()).toBe(true);
    await eventually(() => malloryCard.isVisible()).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(await malloryCard.textContent()).toContain(`Mallory <img src=x onerror="window.pwned=1">`);
    expect(await malloryCard.locator("img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await zoeCard.textContent()).toContain("webchat");
    expect(await zoeCard.textContent()).toContain(zoe.device);
    await eventually(() => page.locator(`.tabs a[data-view="pending"] .count`).textContent()).toBe("2");
    await shot("pending");
    if (process.env.GATEHOUSE_DOCS_SCREENSHOT === "1") {
      mkdirSync(new URL(".", DOCS_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: DOCS_SCREENSHOT.pathname, clip: { x: 0, y: 0, width: 1100, height: 470 } });
    }

    // Keyboard: focus the labelled button and press Enter.
    await page.getByRole("button", { name: `Approve ${zoe.code} from Zoe on webchat` }).focus();
    await page.keyboard.press("Enter");
    await eventually(() => zoeCard.count()).toBe(0);
    await zoe.socket.next((f) => f.type === "event" && f.event === "pairing.approved", 10_000);
    await zoe.socket.nextOfType("hello", 10_000);
    const reply = await zoe.socket.request("m1", "chat.send", { text: "hello after approval" });
    expect(reply.ok).toBe(true);
    expect(reply.payload.text).toBe("echo: hello after approval");
    expect(await gw.gateway.context.pairing.isPaired(zoe.device, "webchat")).toBe(true);

    await malloryCard.getByRole("button", { name: /^Deny / }).click();
    await eventually(() => malloryCard.count()).toBe(0);
    expect((await mallory.socket.closed).reason).toMatch(/denied/);
    expect(await gw.gateway.context.pairing.isPaired(mallory.device, "webchat")).toBe(false);
    await eventually(() => page.getByText("No one is waiting for approval.").isVisible()).toBe(true);
  });

  it("lists paired channels and revokes one after confirmation", async () => {
    await open("Paired");
    const card = page.locator("#view-paired li.card").filter({ hasText: "Zoe" });
    await eventually(() => card.isVisible()).toBe(true);
    await shot("paired");
    const [zoeSocket] = sockets;
    await page.getByRole("button", { name: /^Revoke Zoe on webchat$/ }).click();
    await page.getByRole("button", { name: /^Confirm revoking Zoe on webchat$/ }).click();
    await eventually(() => card.count()).toBe(0);
    await eventually(() => page.getByText("Nobody is paired yet.").isVisible()).toBe(true);
    const paired = await gw.gateway.context.pairing.listPaired();
    expect(paired.filter((p) => p.channelType === "webchat")).toEqual([]);
    expect((await zoeSocket!.closed).reason).toMatch(/revoked/);
  });

  it("creates an invite: the code is shown once, copyable, with a countdown, and it really redeems", async () => {
    await open("Invites");
    await inView("invites").getByLabel("Channel type").fill("telegram");
    await page.getByRole("button", { name: "Create invite" }).click();
    const codeBox = page.getByLabel("Invite code");
    await eventually(() => codeBox.isVisible()).toBe(true);
    const code = (await codeBox.textContent())!;
    expect(code).toMatch(CODE);
    await eventually(() => page.locator(".invite-card .countdown").textContent()).toMatch(
      /^Expires in (10:00|9:[0-5]\d)$/,
    );
    await page.getByRole("button", { name: "Copy code" }).click();
    await eventually(() => page.getByText("Copied.").isVisible()).toBe(true);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
    await eventually(() => page.locator(".open-invites li").count()).toBe(1);
    expect(await page.locator(".open-invites").textContent()).not.toContain(code);
    await shot("invites");
    await open("Sessions");
    await open("Invites");
    expect(await page.getByLabel("Invite code").count()).toBe(0);
    expect(await gw.gateway.context.pairing.approve("telegram", code, "tg-4242")).toBe(true);
  });

  it("looks up a session and says when there is none", async () => {
    const { socket, hello } = await connectWithToken(gw.wsUrl, USER_TOKEN);
    sockets.push(socket);
    await open("Sessions");
    await page.getByLabel("Session id").fill(hello.sessionId);
    await page.getByRole("button", { name: "Look up" }).click();
    await eventually(() => page.locator(".session-result").textContent()).toContain("bob");
    expect(await page.locator(".session-result").textContent()).toContain("user");
    await shot("sessions");
    await page.getByLabel("Session id").fill("no-such-session-id");
    await page.keyboard.press("Enter");
    await eventually(() => page.getByText("No session with this id.").isVisible()).toBe(true);
  });

  it("pages through the audit log and filters it by event type and channel", async () => {
    const store = gw.gateway.context.pairing as typeof gw.gateway.context.pairing & {
      deny(t: string, c: string): Promise<boolean>;
    };
    for (let i = 0; i < 15; i += 1) {
      const code = await store.generateCode("discord", `discord-user-${i}`);
      expect(await store.deny("discord", code)).toBe(true);
    }
    await open("Audit log");
    const rows = page.locator(".audit-table tbody tr");
    await eventually(() => rows.count()).toBe(25);
    expect(await page.locator(".page-number").textContent()).toBe("Page 1");
    await page.getByRole("button", { name: "Next page" }).click();
    await eventually(() => page.locator(".page-number").textContent()).toBe("Page 2");
    const secondPage = await rows.count();
    expect(secondPage).toBeGreaterThan(0);
    expect(secondPage).toBeLessThanOrEqual(25);
    await page.getByRole("button", { name: "Previous page" }).click();
    await eventually(() => page.locator(".page-number").textContent()).toBe("Page 1");

    await page.getByLabel("Event type").selectOption("denied");
    await inView("audit").getByLabel("Channel type").fill("discord");
    await page.getByRole("button", { name: "Apply" }).click();
    await eventually(() => rows.count()).toBe(15);
    const types = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-type")));
    expect(new Set(types)).toEqual(new Set(["denied"]));
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    await page.getByLabel("Event type").selectOption("approved");
    await inView("audit").getByLabel("Channel type").fill("");
    await page.getByRole("button", { name: "Apply" }).click();
    await eventually(() => rows.count()).toBe(2);
    await shot("audit");
    await page.getByLabel("Event type").selectOption("locked-out");
    await eventually(() => page.getByText("No events match these filters.").isVisible()).toBe(true);
  });

  it("the chat panel shows its pairing code, then chats once the owner approves it", async () => {
    await open("Chat");
    await page.getByLabel("Your name").fill("Console visitor");
    await page.getByRole("button", { name: "Connect" }).click();
    const code = page.getByTestId("chat-code");
    await eventually(() => code.isVisible()).toBe(true);
    const shown = (await code.textContent())!;
    expect(shown).toMatch(CODE);
    expect(await page.getByLabel("Message", { exact: true }).isDisabled()).toBe(true);
    await shot("chat-waiting");

    await open("Pending");
    await page.getByRole("button", { name: `Approve ${shown} from Console visitor on webchat` }).click();
    await open("Chat");
    await eventually(() => page.locator(".chat-status").textContent()).toBe("Connected. You can chat now.");
    await page.getByLabel("Message", { exact: true }).fill("hello agent");
    await page.keyboard.press("Enter");
    await eventually(() => page.locator(".message.agent p").last().textContent()).toBe("echo: hello agent");
    await shot("chat");
  });

  it("a hostile page on another port of the same host cannot act with the owner's cookie", async () => {
    const victim = await gw.gateway.context.pairing.generateCode("telegram", "tg-victim-1");
    const hostile = await hostilePage(gw.url, victim);
    try {
      const sentWithCookie: boolean[] = [];
      const statuses: number[] = [];
      const onRequest = async (request: import("playwright-core").Request): Promise<void> => {
        // Only the hostile page's POSTs (the console itself may be refreshing its lists with GETs meanwhile).
        if (!request.url().startsWith(`${gw.url}/api/`) || request.method() !== "POST") return;
        sentWithCookie.push((await request.allHeaders()).cookie?.includes("gatehouse_console=") ?? false);
        const response = await request.response();
        if (response) statuses.push(response.status());
      };
      page.on("request", onRequest);
      await page.goto(hostile.url);
      await page.waitForURL(`${gw.url}/api/pairing/approve`);
      await eventually(() => statuses.length).toBeGreaterThanOrEqual(2);
      page.off("request", onRequest);
      // Same site (only the port differs), so SameSite=Strict does not hold the cookie back: the Origin check and the
      // CSRF header are what refuse these.
      expect(sentWithCookie.some(Boolean)).toBe(true);
      for (const status of statuses) expect([401, 403, 415]).toContain(status);
      const pending = await gw.gateway.context.pairing.listPending("telegram");
      expect(pending.map((p) => p.code)).toContain(victim);
      const invites = pending.filter((p) => p.kind === "invite");
      expect(invites).toHaveLength(0);
    } finally {
      await new Promise((resolve) => hostile.server.close(resolve));
      await page.goto(`${gw.url}/console/#pending`);
    }
    await eventually(() => page.locator(".live-status").textContent()).toBe("Live");
  });

  it("works at phone width (375 px) without sideways scrolling, every control labelled", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    for (const view of ["Pending", "Paired", "Invites", "Sessions", "Audit log", "Chat"]) {
      await open(view);
      await page.waitForTimeout(50);
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        unlabelled: Array.from(document.querySelectorAll<HTMLElement>("input, select, textarea, button"))
          .filter((el) => el.offsetParent !== null)
          .filter((el) => {
            const control = el as HTMLInputElement;
            const named =
              (control.labels?.length ?? 0) > 0 ||
              el.getAttribute("aria-label") ||
              (el.tagName === "BUTTON" && el.textContent?.trim());
            return !named;
          })
          .map((el) => el.outerHTML.slice(0, 80)),
      }));
      expect(layout.scrollWidth, view).toBeLessThanOrEqual(375);
      expect(layout.unlabelled, view).toEqual([]);
      if (view === "Pending" || view === "Audit log") await shot(`phone-${view.toLowerCase().replace(" log", "")}`);
    }
    await page.setViewportSize({ width: 1100, height: 760 });
  });

  it("signs out: the cookie is cleared and the old session is dead on the server", async () => {
    await open("Pending");
    await page.getByRole("button", { name: "Sign out" }).click();
    await eventually(() => page.getByLabel("Owner or admin token").isVisible()).toBe(true);
    expect(await context.cookies()).toEqual([]);
    expect((await withCookie(gw, "GET", "/api/pairing/pending", signedInCookie)).status).toBe(401);
    await page.reload();
    await eventually(() => page.getByLabel("Owner or admin token").isVisible()).toBe(true);
  });

  it("shows the error state (with a retry) and goes offline when the gateway is unreachable", async () => {
    await page.getByLabel("Owner or admin token").fill(OWNER_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await eventually(() => page.locator(".live-status").textContent()).toBe("Live");
    await gw.gateway.stop();
    await eventually(() => page.locator(".live-status").textContent()).toBe("Offline — retrying");
    await inView("pending").getByRole("button", { name: "Refresh" }).click();
    const alert = inView("pending").getByRole("alert");
    await eventually(() => alert.textContent()).toMatch(/Could not load pending requests: Cannot reach the gateway/);
    await eventually(() => alert.getByRole("button", { name: "Try again" }).isVisible()).toBe(true);
    await shot("error");
  });
});

/**
 * A page served from another port of 127.0.0.1 (same site, different origin) that tries what a CSRF attack can do
 * without a preflight: a no-cors fetch with a text/plain body, then a form POST, both aimed at the gateway's admin API.
 */
async function hostilePage(gatewayUrl: string, code: string): Promise<{ server: Server; url: string }> {
  const html = `<!doctype html><title>hostile</title>
<form id="f" method="POST" action="${gatewayUrl}/api/pairing/approve" enctype="text/plain">
<input type="hidden" name='{"channelType":"telegram","code":"${code}","x":"' value='"}'></form>
<script>
fetch(${JSON.stringify(`${gatewayUrl}/api/pairing/invites`)}, { method: "POST", mode: "no-cors", credentials: "include",
  headers: { "content-type": "text/plain" }, body: JSON.stringify({ channelType: "telegram" }) })
  .finally(() => document.getElementById("f").submit());
</script>`;
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
