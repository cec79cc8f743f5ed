import { describe, expect, it } from "vitest";
import { FORWARDING_HEADERS, loopbackAuth, safeCheck } from "../src/auth/index.js";
import { gatewayRequest } from "./auth-helpers.js";

describe("loopbackAuth", () => {
  const auth = loopbackAuth();

  it.each([["127.0.0.1"], ["::1"], ["::ffff:127.0.0.1"], ["127.0.0.2"]])("admits the local owner from %s", async (remoteAddress) => {
    const result = await auth.check(gatewayRequest({ remoteAddress, headers: { host: "127.0.0.1:8787" } }));
    expect(result).toMatchObject({ success: true, userId: "local-owner", role: "owner" });
  });

  it.each([["10.0.0.1"], ["::ffff:10.0.0.1"], ["192.168.0.10"], ["2001:db8::1"], [""]])("denies the remote peer %s", async (remoteAddress) => {
    expect((await auth.check(gatewayRequest({ remoteAddress }))).success).toBe(false);
  });

  it.each(FORWARDING_HEADERS.map((name) => [name]))("denies a loopback peer carrying %s", async (name) => {
    const result = await auth.check(gatewayRequest({ headers: { [name]: "203.0.113.9" } }));
    expect(result.success).toBe(false);
  });

  it("denies forwarding headers whatever their case", async () => {
    expect((await auth.check(gatewayRequest({ headers: { "X-Forwarded-For": "127.0.0.1" } }))).success).toBe(false);
  });

  it("denies browsers (Origin, Sec-Fetch-*) and DNS-rebinding Host names", async () => {
    for (const headers of [
      { origin: "http://127.0.0.1:8787" },
      { "sec-fetch-site": "same-origin" },
      { host: "evil.example:8787" },
      { host: ["127.0.0.1", "evil.example"] },
    ]) {
      expect((await auth.check(gatewayRequest({ headers }))).success).toBe(false);
    }
    expect((await auth.check(gatewayRequest({ headers: { host: "localhost:8787" } }))).success).toBe(true);
    expect((await auth.check(gatewayRequest({ headers: { host: "[::1]:8787" } }))).success).toBe(true);
  });

  it("ignores any role or user the client declares", async () => {
    const result = await auth.check(gatewayRequest({ headers: { "x-role": "admin" }, connectParams: { role: "admin", userId: "eve" } }));
    expect(result).toMatchObject({ userId: "local-owner", role: "owner" });
  });

  it("denies (fail closed) when a request is malformed enough to throw", async () => {
    const broken = gatewayRequest({ headers: null as unknown as Record<string, string> });
    Object.defineProperty(broken, "remoteAddress", {
      get() {
        throw new Error("socket gone");
      },
    });
    expect((await safeCheck(auth, broken)).success).toBe(false);
  });
});
