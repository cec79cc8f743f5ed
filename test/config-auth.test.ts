import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { mintToken } from "../src/auth/index.js";
import { authFromConfig, ConfigError, validateConfig } from "../src/config/index.js";
import { MemoryTokenStore } from "../src/stores/memory/tokens.js";
import { captureLogger, gatewayRequest } from "./auth-helpers.js";

describe("authFromConfig", () => {
  it("the default config is token auth on the store's tokens", async () => {
    const tokens = new MemoryTokenStore();
    const { token } = await mintToken(tokens, { role: "owner", userId: "o" });
    const auth = authFromConfig(validateConfig({}).auth, tokens);
    expect(
      await auth.check(gatewayRequest({ remoteAddress: "203.0.113.5", headers: { authorization: `Bearer ${token}` } })),
    ).toMatchObject({ success: true, userId: "o" });
    // Loopback is off unless asked for: a local request without a token is denied.
    expect((await auth.check(gatewayRequest())).success).toBe(false);
  });

  it("chains token, jwt, trusted proxy and the local socket as configured", async () => {
    const keys = await generateKeyPair("ES256");
    const config = validateConfig({
      auth: {
        localSocket: true,
        jwt: {
          issuer: "https://idp",
          audience: "gh",
          publicKey: await exportSPKI(keys.publicKey),
          algorithms: ["ES256"],
        },
        trustedProxy: { proxies: ["10.1.1.1"], userHeader: "x-user", role: "user" },
      },
    });
    const auth = authFromConfig(config.auth, new MemoryTokenStore());
    const jwt = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "ES256" })
      .setSubject("jay")
      .setIssuer("https://idp")
      .setAudience("gh")
      .setExpirationTime("5m")
      .sign(keys.privateKey);
    expect(
      await auth.check(gatewayRequest({ remoteAddress: "198.51.100.1", headers: { authorization: `Bearer ${jwt}` } })),
    ).toMatchObject({ userId: "jay", role: "admin" });
    expect(await auth.check(gatewayRequest({ remoteAddress: "10.1.1.1", headers: { "x-user": "pam" } }))).toMatchObject(
      { userId: "pam", role: "user" },
    );
    expect(await auth.check(gatewayRequest({ remoteAddress: "", via: "local-socket" }))).toMatchObject({
      userId: "local-owner",
      role: "owner",
    });
    // Loopback TCP is no credential: a same-host reverse proxy forwards everyone from there.
    expect((await auth.check(gatewayRequest({ remoteAddress: "::1", via: "tcp" }))).success).toBe(false);
    expect((await auth.check(gatewayRequest({ remoteAddress: "127.0.0.1" }))).success).toBe(false);
    expect(
      (await auth.check(gatewayRequest({ remoteAddress: "198.51.100.1", headers: { "x-user": "pam" } }))).success,
    ).toBe(false);
  });

  it("the deprecated auth.loopback opens the local socket and grants nothing over loopback TCP", async () => {
    const config = validateConfig({ auth: { token: false, loopback: true } });
    const auth = authFromConfig(config.auth, undefined);
    expect((await auth.check(gatewayRequest({ remoteAddress: "127.0.0.1", via: "tcp" }))).success).toBe(false);
    expect(await auth.check(gatewayRequest({ remoteAddress: "", via: "local-socket" }))).toMatchObject({
      role: "owner",
    });
  });

  it("a backend that throws is logged and denied, never an error for the caller", async () => {
    const tokens = new MemoryTokenStore();
    tokens.findByHash = async () => {
      throw new Error("disk I/O error");
    };
    const logger = captureLogger();
    const auth = authFromConfig(validateConfig({}).auth, tokens, logger);
    const token = `gh_${"b".repeat(43)}`;
    expect((await auth.check(gatewayRequest({ headers: { authorization: `Bearer ${token}` } }))).success).toBe(false);
    expect(logger.lines.join("\n")).toContain("disk I/O error");
    expect(logger.lines.join("\n")).not.toContain(token);
  });

  it("refuses every backend off, or token auth on a store without tokens, as a config error", () => {
    expect(() => authFromConfig(validateConfig({ auth: { token: false } }).auth, new MemoryTokenStore())).toThrow(
      ConfigError,
    );
    expect(() => authFromConfig(validateConfig({}).auth, undefined)).toThrow(/auth.token/);
  });

  it("turns a backend's own refusal of its settings into a config error naming the key", () => {
    const config = validateConfig({
      auth: { trustedProxy: { proxies: ["not-an-ip"], userHeader: "x-user", role: "user" } },
    });
    expect(() => authFromConfig(config.auth, new MemoryTokenStore())).toThrow(/auth\.trustedProxy\.proxies\[0\]/);
    const jwt = validateConfig({
      auth: { jwt: { issuer: "i", audience: "a", jwksUrl: "http://idp.example/jwks", algorithms: ["RS256"] } },
    });
    expect(() => authFromConfig(jwt.auth, new MemoryTokenStore())).toThrow(/auth\.jwt\.jwksUrl/);
  });
});
