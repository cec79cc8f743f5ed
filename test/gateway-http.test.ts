import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryPairingStore, MemorySessionBindingStore } from "../src/stores/index.js";
import {
  ADMIN_TOKEN,
  fixedTokenAuth,
  OWNER_TOKEN,
  SECRET,
  startGateway,
  STORE_KINDS,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe.each(STORE_KINDS)("HTTP admin API on $name", (storeKind) => {
  it("lists, approves (recording who), revokes and audits a pending request", async () => {
    gw = await startGateway({ storeKind });
    const pairing = gw.gateway.context.pairing;
    const code = await pairing.generateCode("telegram", "u1");
    const pending = await gw.api("GET", "/api/pairing/pending?channelType=telegram", { token: OWNER_TOKEN });
    expect(pending.status).toBe(200);
    expect(pending.body.pending).toHaveLength(1);
    expect(pending.body.pending[0]).toMatchObject({ code, channelId: "u1", kind: "request" });

    const approved = await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "telegram", code, label: "Ann" },
    });
    expect(approved).toEqual({ status: 200, body: { approved: true } });
    expect(await pairing.isPaired("u1", "telegram")).toBe(true);

    const paired = await gw.api("GET", "/api/pairing/paired", { token: ADMIN_TOKEN });
    expect(paired.body.paired).toEqual([
      expect.objectContaining({ channelId: "u1", channelType: "telegram", label: "Ann", approvedBy: "alice" }),
    ]);

    const again = await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "telegram", code },
    });
    expect(again.body).toEqual({ approved: false });

    const revoked = await gw.api("DELETE", "/api/pairing/paired/telegram/u1", { token: OWNER_TOKEN });
    expect(revoked).toEqual({ status: 200, body: { revoked: true } });
    expect(await pairing.isPaired("u1", "telegram")).toBe(false);

    const audit = await gw.api("GET", "/api/audit?limit=2", { token: OWNER_TOKEN });
    expect(audit.status).toBe(200);
    expect(audit.body.events.map((e: { type: string }) => e.type)).toEqual(["requested", "approved"]);
    expect(audit.body.next).not.toBeNull();
    const rest = await gw.api("GET", `/api/audit?after=${audit.body.next}`, { token: OWNER_TOKEN });
    expect(rest.body.events.map((e: { type: string; actor: string }) => [e.type, e.actor])).toEqual([
      ["revoked", "alice"],
    ]);
    expect(JSON.stringify(audit.body)).not.toContain(code.replace("-", ""));
  });

  it("denies a request (recorded) and creates invites that a chat user can redeem", async () => {
    gw = await startGateway({ storeKind });
    const pairing = gw.gateway.context.pairing;
    const code = await pairing.generateCode("discord", "d1");
    expect(
      (await gw.api("POST", "/api/pairing/deny", { token: OWNER_TOKEN, body: { channelType: "discord", code } })).body,
    ).toEqual({ denied: true });
    expect(await pairing.listPending("discord")).toEqual([]);

    const before = Date.now();
    const invite = await gw.api("POST", "/api/pairing/invites", {
      token: OWNER_TOKEN,
      body: { channelType: "discord" },
    });
    expect(invite.status).toBe(201);
    expect(invite.body.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(invite.body.expiresAt).toBeGreaterThan(before);
    expect(await pairing.approve("discord", invite.body.code, "d2")).toBe(true);
    expect(await pairing.isPaired("d2", "discord")).toBe(true);
  });

  it("reports an invite's expiry from the configured rules and clock", async () => {
    const now = 1_900_000_000_000;
    gw = await startGateway({ storeKind, now: () => now, pairingRules: { inviteTtlMs: 300_000 } });
    const invite = await gw.api("POST", "/api/pairing/invites", { token: OWNER_TOKEN, body: { channelType: "slack" } });
    expect(invite.body.expiresAt).toBe(now + 300_000);
  });

  it("shows a bound session to an owner and 404s an unknown one", async () => {
    gw = await startGateway({ storeKind });
    await gw.gateway.context.sessions.bind("sess-123", { userId: "carol", role: "user" });
    expect(await gw.api("GET", "/api/sessions/sess-123", { token: OWNER_TOKEN })).toEqual({
      status: 200,
      body: { principal: { userId: "carol", role: "user" } },
    });
    const missing = await gw.api("GET", "/api/sessions/nope", { token: OWNER_TOKEN });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
  });
});

describe("HTTP admin API guards", () => {
  const routes: [string, string, unknown?][] = [
    ["GET", "/api/pairing/pending"],
    ["POST", "/api/pairing/approve", { channelType: "telegram", code: "ABCD-EFGH" }],
    ["POST", "/api/pairing/deny", { channelType: "telegram", code: "ABCD-EFGH" }],
    ["GET", "/api/pairing/paired"],
    ["DELETE", "/api/pairing/paired/telegram/u1"],
    ["POST", "/api/pairing/invites", { channelType: "telegram" }],
    ["GET", "/api/sessions/abc"],
    ["GET", "/api/audit"],
  ];

  it.each(routes)(
    "%s %s: 401 without a token, 401 with a wrong one, 403 for a user role",
    async (method, path, body) => {
      gw = await startGateway();
      const none = await gw.api(method, path, { body });
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe("unauthenticated");
      expect((await gw.api(method, path, { body, token: "wrong-token-0123456789" })).status).toBe(401);
      const user = await gw.api(method, path, { body, token: USER_TOKEN });
      expect(user.status).toBe(403);
      expect(user.body.error).toMatchObject({ code: "forbidden" });
      expect(await gw.gateway.context.pairing.listPending()).toEqual([]);
    },
  );

  it("percent-encoded paths that route to the API are guarded the same way", async () => {
    gw = await startGateway();
    const encoded = await gw.api("GET", "/%61pi/pairing/paired");
    expect(encoded.status).toBe(401);
    expect(encoded.body.error.message).toMatch(/Bearer/);
    expect(
      (await gw.api("GET", "/%61pi/pairing/paired", { token: OWNER_TOKEN, headers: { origin: "http://evil.example" } }))
        .status,
    ).toBe(403);
  });

  it("an auth backend that throws is a 401, never a pass", async () => {
    gw = await startGateway({
      auth: {
        check: () => {
          throw new Error("boom");
        },
      },
    });
    expect((await gw.api("GET", "/api/pairing/paired", { token: OWNER_TOKEN })).status).toBe(401);
  });

  it("refuses a foreign Origin and a foreign Host (CSRF, DNS rebinding) even with a valid token", async () => {
    gw = await startGateway();
    const origin = await gw.api("GET", "/api/pairing/paired", {
      token: OWNER_TOKEN,
      headers: { origin: "http://evil.example" },
    });
    expect(origin.status).toBe(403);
    expect(origin.body.error.code).toBe("origin_not_allowed");
    const own = await gw.api("GET", "/api/pairing/paired", { token: OWNER_TOKEN, headers: { origin: gw.url } });
    expect(own.status).toBe(200);
    const host = await rawGet(gw.url, "/api/pairing/paired", {
      authorization: `Bearer ${OWNER_TOKEN}`,
      host: "evil.example:8787",
    });
    expect(host.status).toBe(403);
    expect(JSON.parse(host.body).error.code).toBe("origin_not_allowed");
    const loopbackAlias = await rawGet(gw.url, "/api/pairing/paired", {
      authorization: `Bearer ${OWNER_TOKEN}`,
      host: `localhost:${new URL(gw.url).port}`,
    });
    expect(loopbackAlias.status).toBe(200);
  });

  it("unknown routes are JSON 404s", async () => {
    gw = await startGateway();
    const response = await gw.api("GET", "/nope");
    expect(response).toEqual({
      status: 404,
      body: { error: { code: "not_found", ghCode: "GH_ERR_NOT_FOUND", message: "no route GET /nope" } },
    });
  });
});

describe("HTTP bad input changes nothing", () => {
  const cases: {
    name: string;
    path: string;
    raw?: string;
    body?: unknown;
    status: number;
    code: string;
    field?: string;
    headers?: Record<string, string>;
  }[] = [
    {
      name: "malformed JSON",
      path: "/api/pairing/approve",
      raw: '{"channelType": ',
      status: 400,
      code: "invalid_json",
    },
    { name: "empty JSON body", path: "/api/pairing/approve", raw: "", status: 400, code: "invalid_json" },
    {
      name: "oversized body",
      path: "/api/pairing/approve",
      body: { channelType: "telegram", code: "x".repeat(20_000) },
      status: 413,
      code: "payload_too_large",
    },
    {
      name: "code of the wrong type",
      path: "/api/pairing/approve",
      body: { channelType: "telegram", code: 12345678 },
      status: 400,
      code: "invalid_request",
      field: "code",
    },
    {
      name: "missing code",
      path: "/api/pairing/approve",
      body: { channelType: "telegram" },
      status: 400,
      code: "invalid_request",
      field: "code",
    },
    {
      name: "missing channelType",
      path: "/api/pairing/deny",
      body: { code: "ABCD-EFGH" },
      status: 400,
      code: "invalid_request",
      field: "channelType",
    },
    {
      name: "unknown key",
      path: "/api/pairing/approve",
      body: { channelType: "telegram", code: "ABCD-EFGH", role: "owner" },
      status: 400,
      code: "invalid_request",
    },
    {
      name: "array instead of object",
      path: "/api/pairing/invites",
      body: ["telegram"],
      status: 400,
      code: "invalid_request",
    },
    {
      name: "invalid channelType for the store",
      path: "/api/pairing/invites",
      body: { channelType: "Tele Gram" },
      status: 400,
      code: "invalid_request",
      field: "channelType",
    },
    {
      name: "non-JSON content type",
      path: "/api/pairing/approve",
      raw: "channelType=telegram",
      headers: { "content-type": "text/plain" },
      status: 415,
      code: "unsupported_media_type",
    },
  ];

  it.each(cases)("$name → $status $code", async ({ path, raw, body, status, code, field, headers }) => {
    gw = await startGateway();
    const pairing = gw.gateway.context.pairing;
    const pendingCode = await pairing.generateCode("telegram", "u1");
    const response = await gw.api("POST", path, { token: OWNER_TOKEN, raw, body, headers });
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(typeof response.body.error.message).toBe("string");
    if (field) {
      expect(response.body.error.field).toBe(field);
      expect(response.body.error.message).toContain(field);
    }
    expect(await pairing.listPending()).toEqual([expect.objectContaining({ code: pendingCode, channelId: "u1" })]);
    expect(await pairing.listPaired()).toEqual([]);
  });

  it("bad query parameters name the field", async () => {
    gw = await startGateway();
    const limit = await gw.api("GET", "/api/audit?limit=abc", { token: OWNER_TOKEN });
    expect(limit.status).toBe(400);
    expect(limit.body.error.field).toBe("limit");
    const zero = await gw.api("GET", "/api/audit?limit=0", { token: OWNER_TOKEN });
    expect(zero.body.error.field).toBe("limit");
  });
});

describe("GET /healthz", () => {
  it("is 200 with every store ok", async () => {
    gw = await startGateway();
    expect(await gw.api("GET", "/healthz")).toEqual({
      status: 200,
      body: { ok: true, stores: { pairing: "ok", sessions: "ok" } },
    });
  });

  it("is 503 naming the store whose health() rejects, and admission then fails closed", async () => {
    const pairingStore = new MemoryPairingStore({ secret: SECRET });
    pairingStore.health = async () => {
      throw new Error("connection refused");
    };
    gw = await startGateway({ auth: fixedTokenAuth(), pairingStore, sessionBinding: new MemorySessionBindingStore() });
    const response = await gw.api("GET", "/healthz");
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ ok: false, stores: { pairing: "down", sessions: "ok" } });
    expect(response.body.error.message).toBe("pairing store is unavailable");
    expect(JSON.stringify(response.body)).not.toContain("connection refused");
  });

  it("a store call failing mid-request is a 503 unavailable, not a crash", async () => {
    const pairingStore = new MemoryPairingStore({ secret: SECRET });
    pairingStore.listPaired = async () => {
      throw new Error("socket hang up");
    };
    gw = await startGateway({ pairingStore, sessionBinding: new MemorySessionBindingStore() });
    const response = await gw.api("GET", "/api/pairing/paired", { token: OWNER_TOKEN });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe("unavailable");
    expect((await gw.api("GET", "/healthz")).status).toBe(200);
  });
});

/** fetch() may not set Host; node:http can, which is what a DNS-rebinding page's requests look like. */
function rawGet(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: "GET", headers }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
