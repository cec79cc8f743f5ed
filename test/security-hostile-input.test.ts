/**
 * Hostile input, property-based (fast-check): adversarial strings and values for codes, channel types, ids, names,
 * session ids, principals, WebSocket JSON frames (over a real socket), HTTP bodies, paths and headers, button tokens.
 * Never a crash or unhandled rejection, never a pairing or session change, always a clear error.
 * Runs per property: GATEHOUSE_FC_RUNS (default 200; the soak run uses >= 10,000).
 */
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenAuth } from "../src/auth/token.js";
import { buttonKey, verifyButtonToken } from "../src/pairing/buttons.js";
import { normalizeCode } from "../src/pairing/codes.js";
import { PairingCooldownError, PairingInputError, PairingLimitError } from "../src/pairing/errors.js";
import { parsePairCommand } from "../src/channels/pair-command.js";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import { MemoryTokenStore } from "../src/stores/memory/index.js";
import { gatewayRequest } from "./auth-helpers.js";
import {
  connectWithToken,
  OWNER_TOKEN,
  startGateway,
  STORE_KINDS,
  TestSocket,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";

const RUNS = Number(process.env.GATEHOUSE_FC_RUNS ?? 200);
const params = { numRuns: RUNS };
const totals: Record<string, number> = {};
const tried = (name: string) => void (totals[name] = (totals[name] ?? 0) + 1);

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(() => void process.on("unhandledRejection", onUnhandled));
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
  console.log(
    `HOSTILE INPUT: ${Object.values(totals).reduce((a, b) => a + b, 0)} cases ${JSON.stringify(totals)}; unhandled rejections: ${unhandled.length}`,
  );
  expect(unhandled).toEqual([]);
});

/** Strings an attacker would try first, mixed with arbitrary (binary, full Unicode) ones. */
const NASTY = [
  "",
  " ",
  "\u0000",
  "\n",
  "\r\nX-Injected: 1",
  "../../etc/passwd",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "ABCD-EFGH",
  "abcd efgh",
  "A".repeat(10_000),
  "%00",
  "' OR 1=1 --",
  '"; DROP TABLE pending; --',
  "\uD800",
  "\uFFFF",
  "NaN",
  "-1",
  "null",
  "undefined",
  "[object Object]",
  "🙂".repeat(300),
  "webchat",
  "telegram",
  "*",
  "%",
  "_",
  "?",
  "\\",
  "${jndi:ldap://x}",
  "<script>alert(1)</script>",
  "gh_" + "A".repeat(43),
  "owner",
  "admin",
];
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 300 }) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom(..."ABCDEFGHJKLMNPQRSTUVWXYZ23456789- abc"), maxLength: 12 }),
  },
);
/** Every UTF-8 byte percent-encoded (lone surrogates become U+FFFD, as a client library would send them). */
const pct = (value: string): string =>
  [...Buffer.from(value, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
const hostileValue = fc.oneof(
  hostileString,
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(null, undefined, 0, -1, 1e308, NaN, true, [], {}),
);

/** A clear error: a PairingInputError naming the field, or the documented limit/cooldown refusals. */
function isClearError(error: unknown): boolean {
  if (error instanceof PairingInputError) return error.message.length > 0 && typeof error.field === "string";
  return error instanceof PairingLimitError || error instanceof PairingCooldownError;
}

async function snapshot(stores: Stores, sessionId: string): Promise<string> {
  return JSON.stringify([await stores.pairing.listPaired(), await stores.sessions.lookup(sessionId)]);
}

describe.each(STORE_KINDS.map((k) => [k.name, k] as const))("store calls with hostile arguments (%s)", (name, kind) => {
  let stores: Stores;
  let cleanup: () => void;
  const SESSION = "seeded-session-id-0123456789";
  beforeAll(async () => {
    const made = kind.make();
    cleanup = made.cleanup;
    stores = await openStores(made.url, {
      secret: randomBytes(32),
      maxPendingPerChannelType: 1_000_000,
      ...(name === "memory" ? {} : { dataDir: "/tmp" }),
    });
    const code = await stores.pairing.generateCode("telegram", "paired-user");
    await stores.pairing.approve("telegram", code);
    await stores.sessions.bind(SESSION, { userId: "paired-user", role: "user", channelType: "telegram" });
  });
  afterAll(async () => {
    await stores.close();
    cleanup();
  });

  const runs = name === "memory" ? RUNS : Math.max(20, Math.floor(RUNS / 4));

  it("approve, revoke, deny, isPaired, pendingFor: answer or a clear error; no pairing or session changes", async () => {
    const before = await snapshot(stores, SESSION);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("approve", "revoke", "deny", "isPaired", "pendingFor", "lookup", "unbind-foreign"),
        hostileValue,
        hostileValue,
        hostileValue,
        hostileValue,
        async (op, a, b, c, d) => {
          tried(`store-${name}`);
          const p = stores.pairing as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
          const s = stores.sessions as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
          try {
            const result = await (
              {
                approve: () => p.approve!.call(stores.pairing, a, b, c, d),
                revoke: () => p.revoke!.call(stores.pairing, a, b),
                deny: () => p.deny!.call(stores.pairing, a, b),
                isPaired: () => p.isPaired!.call(stores.pairing, a, b),
                pendingFor: () => p.pendingFor!.call(stores.pairing, a, b),
                lookup: () => s.lookup!.call(stores.sessions, a),
                "unbind-foreign": () => (a === SESSION ? Promise.resolve(false) : s.unbind!.call(stores.sessions, a)),
              } as Record<string, () => Promise<unknown>>
            )[op]!();
            if (op === "approve" || op === "revoke" || op === "deny") expect(result).toBe(false);
            if (op === "isPaired") expect(result === false || (a === "paired-user" && b === "telegram")).toBe(true);
          } catch (error) {
            expect(isClearError(error), `${op}: ${String(error)}`).toBe(true);
          }
        },
      ),
      { numRuns: runs },
    );
    expect(await snapshot(stores, SESSION)).toBe(before);
  }, 120_000);

  it("generateCode and bind with hostile values: a clear error, or a valid code / binding of exactly what was given", async () => {
    const before = await stores.pairing.listPaired();
    await fc.assert(
      fc.asyncProperty(
        hostileValue,
        hostileValue,
        hostileValue,
        hostileValue,
        async (channelType, channelId, sessionId, principal) => {
          tried(`store-${name}`);
          try {
            const code = await stores.pairing.generateCode(channelType as string, channelId as string, {
              userName: principal as string,
            });
            expect(normalizeCode(code)).not.toBeNull();
          } catch (error) {
            expect(isClearError(error), String(error)).toBe(true);
          }
          if (sessionId === SESSION) return;
          try {
            await stores.sessions.bind(sessionId as string, principal as never);
            expect(await stores.sessions.lookup(sessionId as string)).toEqual(principal);
          } catch (error) {
            expect(isClearError(error), String(error)).toBe(true);
          }
        },
      ),
      { numRuns: runs },
    );
    expect(await stores.pairing.listPaired()).toEqual(before);
    expect(await stores.sessions.lookup(SESSION)).toEqual({
      userId: "paired-user",
      role: "user",
      channelType: "telegram",
    });
  }, 120_000);
});

describe("parsers and verifiers never throw", () => {
  it("normalizeCode, parsePairCommand, button tokens and token auth", async () => {
    const key = buttonKey(randomBytes(32));
    const auth = tokenAuth(new MemoryTokenStore());
    await fc.assert(
      fc.asyncProperty(hostileValue, hostileString, hostileString, async (value, text, header) => {
        tried("parsers");
        const code = normalizeCode(value);
        expect(code === null || /^[A-HJ-NP-Z2-9]{8}$/.test(code)).toBe(true);
        const pair = parsePairCommand(text);
        expect(pair === null || typeof pair === "string").toBe(true);
        expect(verifyButtonToken(key, value, { channelType: text, pressedBy: header, now: Date.now() }).ok).toBe(false);
        const result = await auth.check(
          gatewayRequest({ headers: { authorization: header, "x-role": "owner" }, connectParams: { token: value } }),
        );
        expect(result.success).toBe(false);
      }),
      params,
    );
  });
});

describe("the gateway over real sockets", () => {
  let gw: TestGateway;
  let owner: TestSocket;
  let ownerHello: Record<string, unknown>;
  beforeAll(async () => {
    gw = await startGateway({
      websocket: { rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 }, webchatRequestLimit: false },
    });
    ({ socket: owner, hello: ownerHello } = await connectWithToken(gw.wsUrl, OWNER_TOKEN));
    // One paired device and its session: nothing below may change them.
    const device = await TestSocket.open(gw.wsUrl);
    device.send({ type: "connect", params: { deviceId: "device-seeded-0123456789" } });
    const { code } = await device.nextOfType("pairing");
    await gw.api("POST", "/api/pairing/approve", { token: OWNER_TOKEN, body: { channelType: "webchat", code } });
    await device.nextOfType("hello");
    device.close();
  });
  afterAll(async () => {
    owner.ws.terminate();
    await gw.stop();
  });

  const paired = async () => JSON.stringify((await gw.api("GET", "/api/pairing/paired", { token: OWNER_TOKEN })).body);
  const frame = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    hostileString,
    fc
      .record({
        type: fc.constantFrom("connect", "req", "res", "event", "hello"),
        params: hostileValue,
        id: hostileValue,
        method: hostileValue,
      })
      .map((v) => JSON.stringify(v)),
    fc
      .record({
        token: hostileValue,
        deviceId: hostileValue,
        name: hostileValue,
        sessionId: hostileValue,
        role: hostileValue,
      })
      .map((p) => JSON.stringify({ type: "connect", params: p })),
  );
  const METHODS = [
    "chat.send",
    "session.whoami",
    "pairing.list",
    "pairing.approve",
    "pairing.deny",
    "pairing.revoke",
    "__proto__",
    "constructor",
    "toString",
  ];

  it("first frames from strangers: a clear error and a close, a pairing prompt, or a hello; never a crash", async () => {
    const before = await paired();
    await fc.assert(
      fc.asyncProperty(frame, async (raw) => {
        tried("ws-connect");
        const socket = await TestSocket.open(gw.wsUrl);
        try {
          socket.send(raw);
          const reply = await socket.next(() => true, 5_000);
          expect(["error", "pairing", "hello"]).toContain(reply.type);
          if (reply.type === "error") {
            expect(typeof reply.error.code).toBe("string");
            expect(reply.error.message.length).toBeGreaterThan(0);
            expect([1008, 1013, 4401, 4403]).toContain((await socket.closed).code);
          }
          if (reply.type === "hello") expect((reply.principal as { role: string }).role).not.toMatch(/owner|admin/);
        } finally {
          socket.ws.terminate();
        }
      }),
      params,
    );
    expect(await paired()).toBe(before);
  }, 120_000);

  it("requests with hostile ids, methods and params from an owner and a user: a clear answer, nothing changed", async () => {
    const before = await paired();
    const { socket: user } = await connectWithToken(gw.wsUrl, USER_TOKEN);
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.oneof(fc.constantFrom(...METHODS), hostileString),
          hostileValue,
          async (asOwner, method, params) => {
            tried("ws-request");
            const socket = asOwner ? owner : user;
            const id = `r${n++}`;
            socket.send({ type: "req", id, method, params });
            const reply = await socket.next((f) => f.id === id || f.type === "error", 5_000);
            if (reply.type === "error") {
              expect(reply.error.message.length).toBeGreaterThan(0);
              return;
            }
            expect(reply.type).toBe("res");
            if (!reply.ok) {
              expect(typeof reply.error.code).toBe("string");
              expect(reply.error.code).not.toBe("internal");
              expect(reply.error.message.length).toBeGreaterThan(0);
            }
          },
        ),
        params,
      );
    } finally {
      user.ws.terminate();
    }
    expect(await paired()).toBe(before);
    expect((await owner.request("final", "session.whoami")).payload.sessionId).toBe(ownerHello.sessionId);
  }, 120_000);

  it("near-valid chat.send and whoami frames (the hand-checked fast path): the schema's answer, or a clear error", async () => {
    const { socket } = await connectWithToken(gw.wsUrl, USER_TOKEN);
    const validId = fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), fc.integer());
    const id = fc.oneof({ weight: 3, arbitrary: validId }, { weight: 1, arbitrary: hostileValue });
    const params = fc.oneof(
      fc.record({ text: fc.oneof(fc.string({ maxLength: 50 }), hostileValue) }),
      fc.record({ text: fc.string({ minLength: 1, maxLength: 20 }), extra: hostileValue }),
      hostileValue,
    );
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          id,
          fc.constantFrom("chat.send", "session.whoami"),
          params,
          fc.boolean(),
          async (frameId, method, frameParams, withExtraKey) => {
            tried("ws-fast-path");
            const marker = `m${n++}`;
            const frame: Record<string, unknown> = { type: "req", id: frameId, method, params: frameParams };
            if (withExtraKey) frame.marker = marker;
            socket.send(JSON.stringify(frame));
            // Follow with a known request so every answer to the hostile frame has arrived before we look.
            socket.send({ type: "req", id: marker, method: "session.whoami" });
            const fence = await socket.next((f) => f.id === marker && f.type === "res", 5_000);
            expect(fence.ok).toBe(true);
            const answers = socket.frames.splice(0).filter((f) => f.type === "res" || f.type === "error");
            expect(answers.length, JSON.stringify(frame).slice(0, 200)).toBeLessThanOrEqual(1);
            for (const answer of answers) {
              if (answer.type === "error" || answer.ok === false) {
                expect(answer.error.message.length).toBeGreaterThan(0);
                expect(answer.error.code).not.toBe("internal");
                continue;
              }
              expect(answer.id).toEqual(frameId);
              if (method === "chat.send") expect(typeof answer.payload.text).toBe("string");
              else expect(answer.payload.principal).toEqual({ userId: "bob", role: "user" });
            }
          },
        ),
        { numRuns: RUNS },
      );
    } finally {
      socket.ws.terminate();
    }
  }, 120_000);

  it("HTTP: hostile bodies, paths, query strings and headers get a JSON 4xx (never 5xx) and change nothing", async () => {
    const before = await paired();
    const safeHeader = fc.string({
      unit: fc.constantFrom(..." !#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~"),
      maxLength: 80,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH"),
        fc.oneof(
          fc.constantFrom(
            "/api/pairing/approve",
            "/api/pairing/deny",
            "/api/pairing/invites",
            "/api/pairing/pending",
            "/api/audit",
            "/api/pairing/paired",
          ),
          hostileString.map((s) => `/api/pairing/paired/webchat/${pct(s)}`),
          hostileString.map((s) => `/api/sessions/${pct(s)}`),
          hostileString.map((s) => `/api/audit?limit=${pct(s)}&after=${pct(s)}`),
          hostileString.map((s) => `/api/${pct(s)}`),
          fc.constantFrom(
            "/api/pairing/paired/webchat/%FF%FE",
            "/api/sessions/%",
            "/api/sessions/%zz",
            "/%61pi/pairing/approve",
            "/api/pairing/paired/%2e%2e/%2e%2e",
            "/api//pairing//approve",
          ),
        ),
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          hostileString,
        ),
        fc.constantFrom(OWNER_TOKEN, USER_TOKEN, ""),
        safeHeader,
        async (method, path, body, token, header) => {
          tried("http");
          const headers: Record<string, string> = {
            "content-type": "application/json",
            "x-role": header,
            "x-forwarded-for": header,
          };
          if (token) headers.authorization = `Bearer ${token}`;
          const response = await fetch(`${gw.url}${path}`, { method, headers, ...(method === "GET" ? {} : { body }) });
          const text = await response.text();
          expect(response.status, `${method} ${path} -> ${text}`).toBeLessThan(500);
          // 431 (headers/URL too large) is Node's own answer before any route runs; everything else is our JSON error.
          if (response.status >= 400 && response.status !== 431)
            expect(JSON.parse(text).error.message.length, `${response.status} ${text.slice(0, 200)}`).toBeGreaterThan(
              0,
            );
        },
      ),
      params,
    );
    expect(await paired()).toBe(before);
  }, 120_000);
});
