import { describe, expect, it } from "vitest";
import { trustedProxyAuth } from "../src/auth/index.js";
import { safeCheck } from "../src/auth/result.js";
import { gatewayRequest } from "./auth-helpers.js";

describe("trustedProxyAuth", () => {
  const auth = trustedProxyAuth({
    proxies: ["10.0.0.5", "fd00::/8"],
    userHeader: "X-Auth-User",
    roleHeader: "X-Auth-Role",
  });

  it("honours the identity headers from a listed proxy, whatever its address spelling", async () => {
    for (const remoteAddress of ["10.0.0.5", "::ffff:10.0.0.5", "fd00::7"]) {
      const result = await auth.check(
        gatewayRequest({ remoteAddress, headers: { "x-auth-user": "alice", "x-auth-role": "admin" } }),
      );
      expect(result).toMatchObject({ success: true, userId: "alice", role: "admin" });
    }
  });

  it("denies the same headers from any other peer, loopback included", async () => {
    for (const remoteAddress of ["10.0.0.6", "127.0.0.1", "203.0.113.4"]) {
      const result = await auth.check(
        gatewayRequest({ remoteAddress, headers: { "x-auth-user": "alice", "x-auth-role": "owner" } }),
      );
      expect(result.success).toBe(false);
    }
  });

  it("denies a proxied request with a missing, empty, repeated or invalid header", async () => {
    for (const headers of [
      {},
      { "x-auth-role": "admin" },
      { "x-auth-user": "", "x-auth-role": "admin" },
      { "x-auth-user": ["alice", "bob"], "x-auth-role": "admin" },
      { "x-auth-user": "mallory, owner", "x-auth-role": "admin" },
      { "x-auth-user": "alice", "x-auth-role": ["user", "admin"] },
      { "x-auth-user": "alice" },
      { "x-auth-user": "alice", "x-auth-role": "Root Admin" },
      { "x-auth-user": "al\u0000ice", "x-auth-role": "admin" },
    ]) {
      expect((await auth.check(gatewayRequest({ remoteAddress: "10.0.0.5", headers }))).success).toBe(false);
    }
  });

  it("with a fixed role, a role header sent by the client is ignored", async () => {
    const fixed = trustedProxyAuth({ proxies: ["10.0.0.5"], userHeader: "x-user", role: "user" });
    const result = await fixed.check(
      gatewayRequest({ remoteAddress: "10.0.0.5", headers: { "x-user": "bob", "x-auth-role": "owner" } }),
    );
    expect(result).toMatchObject({ success: true, userId: "bob", role: "user" });
  });

  it("refuses bad configuration with an error naming the field", () => {
    expect(() => trustedProxyAuth({ proxies: [], userHeader: "x-user", role: "user" })).toThrow(/trustedProxy.proxies/);
    expect(() => trustedProxyAuth({ proxies: ["proxy.local"], userHeader: "x-user", role: "user" })).toThrow(
      /trustedProxy.proxies\[0\]/,
    );
    expect(() => trustedProxyAuth({ proxies: ["10.0.0.5"], userHeader: "x user", role: "user" })).toThrow(
      /trustedProxy.userHeader/,
    );
    expect(() => trustedProxyAuth({ proxies: ["10.0.0.5"], userHeader: "x-user", role: "Owner!" })).toThrow(
      /trustedProxy.role/,
    );
    expect(() =>
      trustedProxyAuth({ proxies: ["10.0.0.5"], userHeader: "x-user" } as unknown as Parameters<
        typeof trustedProxyAuth
      >[0]),
    ).toThrow(/exactly one of role or roleHeader/);
  });

  it("denies (fail closed) when reading the request throws", async () => {
    const broken = gatewayRequest({ remoteAddress: "10.0.0.5" });
    Object.defineProperty(broken, "headers", {
      get() {
        throw new Error("boom");
      },
    });
    expect((await safeCheck(auth, broken)).success).toBe(false);
  });
});
