import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import type { AuthProtocol, GatewayRequest } from "../src/protocols/types.js";
import { createGateway, type Gateway, type GatewayOptions } from "../src/gateway/index.js";
import type { GatewayLogger } from "../src/core/context.js";

export const OWNER_TOKEN = "owner-token-0123456789abcdef";
export const ADMIN_TOKEN = "admin-token-0123456789abcdef";
export const USER_TOKEN = "user-token-0123456789abcdef";
export const SECRET = Buffer.alloc(32, 9);

/** A plain-object auth backend: fixed bearer tokens (header or connect frame) with server-side roles. */
export function fixedTokenAuth(
  tokens: Record<string, { userId: string; role: string }> = defaultTokens(),
): AuthProtocol {
  return {
    check(request: GatewayRequest) {
      const header = request.headers.authorization;
      const bearer = typeof header === "string" ? /^Bearer (\S+)$/.exec(header)?.[1] : undefined;
      const token =
        bearer ?? (typeof request.connectParams?.token === "string" ? request.connectParams.token : undefined);
      const entry = token === undefined ? undefined : tokens[token];
      return entry
        ? { success: true, userId: entry.userId, role: entry.role, metadata: {} }
        : { success: false, metadata: {} };
    },
  };
}

function defaultTokens(): Record<string, { userId: string; role: string }> {
  return {
    [OWNER_TOKEN]: { userId: "alice", role: "owner" },
    [ADMIN_TOKEN]: { userId: "adam", role: "admin" },
    [USER_TOKEN]: { userId: "bob", role: "user" },
  };
}

/** Captures log lines so tests can check nothing secret was logged. */
export function captureLogger(): GatewayLogger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, info: write("info"), warn: write("warn"), error: write("error") };
}

export interface StoreKind {
  name: string;
  /** A store URL, fresh per call, plus a cleanup. */
  make(): { url: string; cleanup(): void };
}

export const STORE_KINDS: StoreKind[] = [
  { name: "memory", make: () => ({ url: "memory:", cleanup() {} }) },
  {
    name: "sqlite",
    make() {
      const dir = mkdtempSync(join(tmpdir(), "gh-gateway-"));
      return {
        url: `sqlite:${join(dir, "gatehouse.db")}`,
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];

export interface TestGateway {
  gateway: Gateway;
  url: string;
  wsUrl: string;
  logger: ReturnType<typeof captureLogger>;
  api(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** Starts a gateway on an ephemeral loopback port with injected token auth and (by default) a memory store. */
export async function startGateway(options: GatewayOptions & { storeKind?: StoreKind } = {}): Promise<TestGateway> {
  const { storeKind, ...rest } = options;
  const store = (storeKind ?? STORE_KINDS[0]!).make();
  const logger = captureLogger();
  const gateway = createGateway({
    auth: fixedTokenAuth(),
    store: store.url,
    secret: SECRET,
    logger,
    ...rest,
    http: { port: 0, ...rest.http },
  });
  try {
    await gateway.start();
  } catch (error) {
    store.cleanup();
    throw error;
  }
  const url = gateway.url;
  return {
    gateway,
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/ws`,
    logger,
    async api(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined = opts.raw;
      if (opts.body !== undefined) body = JSON.stringify(opts.body);
      if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
      const response = await fetch(`${url}${path}`, { method, headers, body });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      await gateway.stop();
      store.cleanup();
    },
  };
}

export type Frame = Record<string, any>;

/** A WebSocket client that queues frames, so a test can await the next one (or the next of a kind). */
export class TestSocket {
  readonly frames: Frame[] = [];
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      const index = this.waiters.findIndex((w) => w.match(frame));
      if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(frame);
      else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
    const socket = new TestSocket(new WebSocket(url, options));
    await socket.opened;
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame (matching `match`), from the queue or as it arrives; fails after `ms`. */
  next(match: (f: Frame) => boolean = () => true, ms = 3_000): Promise<Frame> {
    const index = this.frames.findIndex(match);
    if (index >= 0) return Promise.resolve(this.frames.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching frame within ${ms} ms; queued: ${JSON.stringify(this.frames)}`)),
        ms,
      );
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  nextOfType(type: string, ms?: number): Promise<Frame> {
    return this.next((f) => f.type === type, ms);
  }

  async request(id: string | number, method: string, params?: unknown): Promise<Frame> {
    this.send({ type: "req", id, method, params });
    return this.next((f) => f.type === "res" && f.id === id);
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens a socket and says connect with a token; resolves with the hello frame. */
export async function connectWithToken(
  wsUrl: string,
  token: string,
  extra: Record<string, unknown> = {},
): Promise<{ socket: TestSocket; hello: Frame }> {
  const socket = await TestSocket.open(wsUrl);
  socket.send({ type: "connect", params: { token, ...extra } });
  const hello = await socket.nextOfType("hello");
  return { socket, hello };
}

export function deviceId(label: string): string {
  return `device-${label}-${Math.random().toString(36).slice(2)}abcdefgh`;
}
