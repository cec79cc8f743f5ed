import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildConsole } from "../web/build.js";
import type { TestGateway, TestSocket } from "./gateway-helpers.js";

/** Builds the console into a fresh temporary directory (so tests never depend on, or race with, `npm run build`). */
export async function buildConsoleForTest(): Promise<{ dir: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "gh-console-"));
  await buildConsole(dir);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ConsoleLogin {
  status: number;
  /** `gatehouse_console=<signed id>` ready for a Cookie header, or "" when none was set. */
  cookie: string;
  setCookie: string | null;
  body: any;
}

/** POST /console/login as a same-origin browser would (Origin = the gateway). */
export async function consoleLogin(
  gw: TestGateway,
  token: unknown,
  headers: Record<string, string> = {},
): Promise<ConsoleLogin> {
  const response = await fetch(`${gw.url}/console/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: gw.url, ...headers },
    body: JSON.stringify({ token }),
  });
  const setCookie = response.headers.get("set-cookie");
  const text = await response.text();
  return {
    status: response.status,
    setCookie,
    cookie: setCookie ? setCookie.split(";")[0]! : "",
    body: text ? JSON.parse(text) : null,
  };
}

/** A request carrying the console cookie (and whatever else the test adds). */
export async function withCookie(
  gw: TestGateway,
  method: string,
  path: string,
  cookie: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { cookie, ...options.headers };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${gw.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Resolves with the socket's close code, or fails when it is still open after `ms`. */
export async function closedWithin(socket: TestSocket, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the socket was still open ${ms} ms later`)), ms);
  });
  try {
    return (await Promise.race([socket.closed, late])).code;
  } finally {
    clearTimeout(timer);
  }
}
