/**
 * The console's live "Actions" view in a real browser (Debian Chromium via playwright-core): an agent polling like
 * PraisonAI's WebhookApproval is denied from the console; the card appears without reloading and shows the agent's
 * arguments as text. A screenshot goes to test/artifacts/console-actions.png.
 */
import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { buildConsoleForTest } from "./console-helpers.js";
import { fixedTokenAuth, OWNER_TOKEN, startGateway, type TestGateway } from "./gateway-helpers.js";
import { requestApproval } from "./support/webhook-approval-client.js";
import { eventually, launchChromium } from "./support/browser.js";

const AGENT_TOKEN = "agent-token-0123456789abcdef";
const ARTIFACTS = new URL("./artifacts/", import.meta.url);

let built: Awaited<ReturnType<typeof buildConsoleForTest>>;
let gw: TestGateway;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  built = await buildConsoleForTest();
  gw = await startGateway({
    consoleDir: built.dir,
    auth: fixedTokenAuth({
      [OWNER_TOKEN]: { userId: "alice", role: "owner" },
      [AGENT_TOKEN]: { userId: "agent-1", role: "agent" },
    }),
  });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1100, height: 760 } })).newPage();
  page.on("pageerror", (error) => {
    throw error;
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  built?.cleanup();
});

describe("console Actions view", () => {
  it("shows an agent's request live and denies it; the agent's next poll gets the denial", async () => {
    await page.goto(`${gw.url}/console/`);
    await page.getByLabel("Owner or admin token").fill(OWNER_TOKEN);
    await page.keyboard.press("Enter");
    await eventually(() => page.locator(".live-status").textContent()).toBe("Live");
    await page
      .getByRole("navigation", { name: "Console sections" })
      .getByRole("link", { name: /^Actions/ })
      .click();
    const view = page.locator("#view-actions");
    await eventually(() => view.getByText("No action is waiting for approval.").isVisible()).toBe(true);

    const decision = requestApproval(
      {
        tool_name: "delete_table",
        arguments: { table: "users", note: "<img src=x onerror=alert(1)>" },
        risk_level: "critical",
        agent_name: "db-agent",
        session_id: "sess-42",
        context: {},
      },
      {
        webhookUrl: `${gw.url}/api/approvals`,
        headers: { Authorization: `Bearer ${AGENT_TOKEN}` },
        pollIntervalMs: 100,
        timeoutMs: 30_000,
      },
    );
    const card = view.locator(".action-card");
    await eventually(() => card.count()).toBe(1);
    const text = await card.textContent();
    for (const shown of ["delete_table", "critical risk", "db-agent", "sess-42"]) expect(text).toContain(shown);
    expect(await card.locator(".arguments").textContent()).toContain("<img src=x onerror=alert(1)>");
    expect(await card.locator("img").count()).toBe(0);
    await eventually(() => page.locator('nav a[data-view="actions"] .count').textContent()).toBe("1");
    await page.screenshot({ path: new URL("console-actions.png", ARTIFACTS).pathname, fullPage: true });

    await card.getByRole("button", { name: "Deny delete_table for db-agent" }).click();
    expect(await decision).toMatchObject({ approved: false, approver: "alice", reason: "denied by alice" });
    await eventually(() => view.getByText("No action is waiting for approval.").isVisible()).toBe(true);
  }, 60_000);
});
