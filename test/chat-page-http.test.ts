/**
 * The public webchat page over plain HTTP: /chat/ and its files are served to anyone (no token, no console session),
 * with the console's security headers, from their own folder only; /chat redirects there; an unbuilt console says so.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildConsoleForTest } from "./console-helpers.js";
import { startGateway, type TestGateway } from "./gateway-helpers.js";

let built: Awaited<ReturnType<typeof buildConsoleForTest>>;
let gw: TestGateway | undefined;

beforeAll(async () => {
  built = await buildConsoleForTest();
});
afterAll(() => built.cleanup());
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

async function start(consoleDir = built.dir): Promise<TestGateway> {
  gw = await startGateway({ consoleDir });
  return gw;
}

function expectSecurityHeaders(response: Response): void {
  const csp = response.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("referrer-policy")).toBe("no-referrer");
}

describe("the public chat page", () => {
  it("is served at /chat/ without any credential, with the console's security headers", async () => {
    const g = await start();
    const page = await fetch(`${g.url}/chat/`, { redirect: "manual" });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expectSecurityHeaders(page);
    const html = await page.text();
    expect(html).toContain('src="/chat/app.js"');
    expect(html).toContain('href="/chat/app.css"');
    expect(html).toContain('href="/chat/page.css"');
    expect(html).not.toContain("/console/");

    const script = await fetch(`${g.url}/chat/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expectSecurityHeaders(script);
    const code = await script.text();
    // The page is a key device: it signs the device-key challenge (web/src/device-key.ts), and asks no console session.
    expect(code).toContain("gatehouse-device-v1");
    expect(code).not.toContain("/console/session");
    for (const sheet of ["app.css", "page.css"]) {
      const css = await fetch(`${g.url}/chat/${sheet}`);
      expect(css.status).toBe(200);
      expect(css.headers.get("content-type")).toMatch(/text\/css/);
      await css.text();
    }
  });

  it("/chat redirects to /chat/, and the console's / redirect is unchanged", async () => {
    const g = await start();
    const bare = await fetch(`${g.url}/chat`, { redirect: "manual" });
    expect(bare.status).toBe(302);
    expect(bare.headers.get("location")).toBe("/chat/");
    await bare.text();
    const root = await fetch(`${g.url}/`, { redirect: "manual" });
    expect(root.status).toBeGreaterThanOrEqual(300);
    expect(root.status).toBeLessThan(400);
    expect(root.headers.get("location")).toMatch(/^\/console/);
    await root.text();
  });

  it("serves only its own folder: not the console's files, nothing above, no second copy under /console/", async () => {
    const g = await start();
    for (const path of [
      "/chat/%2e%2e/package.json",
      "/chat/%2e%2e/index.html",
      "/chat/..%2fapp.js",
      "/console/chat/index.html",
      "/console/chat/app.js",
    ]) {
      const response = await fetch(`${g.url}${path}`);
      // 404, or 400 for an encoded slash fastify refuses before routing.
      expect({ path, refused: [400, 404].includes(response.status) }).toEqual({ path, refused: true });
      await response.text();
    }
    // The console itself is still there.
    const console = await fetch(`${g.url}/console/app.js`);
    expect(console.status).toBe(200);
    await console.text();
  });

  it("says clearly when the console (and so the chat page) has not been built", async () => {
    const g = await start(`${built.dir}/missing`);
    const page = await fetch(`${g.url}/chat/`);
    expect(page.status).toBe(503);
    expect((await page.json()).error.message).toMatch(/npm run build:web/);
  });

  it("a console built before the chat page existed still serves the console, and /chat/ says to build", async () => {
    const older = mkdtempSync(join(tmpdir(), "gh-console-older-"));
    try {
      for (const file of ["index.html", "app.js", "app.css"]) cpSync(join(built.dir, file), join(older, file));
      const g = await start(older);
      const console = await fetch(`${g.url}/console/`);
      expect(console.status).toBe(200);
      await console.text();
      const page = await fetch(`${g.url}/chat/`);
      expect(page.status).toBe(503);
      expect((await page.json()).error.message).toMatch(/npm run build:web/);
    } finally {
      rmSync(older, { recursive: true, force: true });
    }
  });
});
