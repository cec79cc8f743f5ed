import { describe, expect, it } from "vitest";
import { localSocketAuth, loopbackAuth } from "../src/auth/index.js";
import { FORWARDING_HEADERS } from "../src/auth/local-socket.js";
import { safeCheck } from "../src/auth/result.js";
import { gatewayRequest } from "./auth-helpers.js";

const onSocket = (overrides: Parameters<typeof gatewayRequest>[0] = {}) =>
  gatewayRequest({ remoteAddress: "", via: "local-socket", ...overrides });

describe("localSocketAuth", () => {
  const auth = localSocketAuth();

  it("admits the local owner on the owner-only socket", async () => {
    expect(await auth.check(onSocket())).toMatchObject({ success: true, userId: "local-owner", role: "owner" });
  });

  it.each([["127.0.0.1"], ["::1"], ["::ffff:127.0.0.1"], ["10.0.0.1"], [""]])(
    "denies a TCP peer at %s, loopback or not",
    async (remoteAddress) => {
      expect((await auth.check(gatewayRequest({ remoteAddress, via: "tcp" }))).success).toBe(false);
      expect((await auth.check(gatewayRequest({ remoteAddress }))).success).toBe(false);
    },
  );

  it("the deprecated loopbackAuth is the same check: loopback TCP is no longer the owner", async () => {
    expect(
      (await loopbackAuth().check(gatewayRequest({ remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8787" } })))
        .success,
    ).toBe(false);
    expect((await loopbackAuth().check(onSocket())).success).toBe(true);
  });

  it.each(FORWARDING_HEADERS.map((name) => [name]))(
    "denies a request on the socket carrying %s (a proxy in between)",
    async (name) => {
      expect((await auth.check(onSocket({ headers: { [name]: "203.0.113.9" } }))).success).toBe(false);
    },
  );

  it("denies browser headers on the socket whatever their case", async () => {
    for (const headers of [
      { Origin: "http://127.0.0.1:8787" },
      { "sec-fetch-site": "same-origin" },
      { "X-Forwarded-For": "127.0.0.1" },
    ]) {
      expect((await auth.check(onSocket({ headers }))).success).toBe(false);
    }
  });

  it("ignores any role or user the client declares", async () => {
    const result = await auth.check(
      onSocket({ headers: { "x-role": "admin" }, connectParams: { role: "admin", userId: "eve" } }),
    );
    expect(result).toMatchObject({ userId: "local-owner", role: "owner" });
  });

  it("denies (fail closed) when a request is malformed enough to throw", async () => {
    const broken = onSocket({ headers: null as unknown as Record<string, string> });
    Object.defineProperty(broken, "via", {
      get() {
        throw new Error("socket gone");
      },
    });
    expect((await safeCheck(auth, broken)).success).toBe(false);
  });
});
