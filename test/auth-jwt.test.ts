import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jwtAuth, type JwtAuthOptions } from "../src/auth/index.js";
import { safeCheck } from "../src/auth/result.js";
import { captureLogger, gatewayRequest } from "./auth-helpers.js";

const ISSUER = "https://idp.example";
const AUDIENCE = "gatehouse";

let server: Server;
let jwksUrl: string;
let signing: { privateKey: CryptoKey; publicKey: CryptoKey };
let stranger: { privateKey: CryptoKey; publicKey: CryptoKey };
let jwksRequests = 0;

beforeAll(async () => {
  signing = await generateKeyPair("ES256");
  stranger = await generateKeyPair("ES256");
  const jwk: JWK = { ...(await exportJWK(signing.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  server = createServer((req, res) => {
    jwksRequests += 1;
    if (req.url !== "/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface SignOptions {
  key?: CryptoKey;
  kid?: string;
  issuer?: string;
  audience?: string;
  expiresIn?: string | number;
  claims?: Record<string, unknown>;
}

function sign(options: SignOptions = {}): Promise<string> {
  const jwt = new SignJWT({ role: "admin", ...options.claims })
    .setProtectedHeader({ alg: "ES256", kid: options.kid ?? "k1" })
    .setSubject("alice")
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt();
  if (options.expiresIn !== undefined) jwt.setExpirationTime(options.expiresIn);
  else jwt.setExpirationTime("10m");
  return jwt.sign(options.key ?? signing.privateKey);
}

const bearer = (token: string) =>
  gatewayRequest({ remoteAddress: "198.51.100.2", headers: { authorization: `Bearer ${token}` } });

function auth(overrides: Partial<JwtAuthOptions> = {}) {
  return jwtAuth({ issuer: ISSUER, audience: AUDIENCE, jwksUrl, algorithms: ["ES256"], ...overrides });
}

describe("jwtAuth with a JWKS served on loopback", () => {
  it("admits a valid token with user and role from the claims", async () => {
    const result = await auth().check(bearer(await sign()));
    expect(result).toMatchObject({ success: true, userId: "alice", role: "admin", metadata: { backend: "jwt" } });
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it("reads the WebSocket connect frame's token and a custom role claim", async () => {
    const token = await sign({ claims: { "https://gatehouse/role": "owner" } });
    const result = await auth({ roleClaim: "https://gatehouse/role" }).check(
      gatewayRequest({ transport: "ws", connectParams: { token } }),
    );
    expect(result).toMatchObject({ success: true, role: "owner" });
  });

  it("denies a token signed by a key that is not in the JWKS but claims its kid", async () => {
    const result = await auth().check(bearer(await sign({ key: stranger.privateKey })));
    expect(result).toMatchObject({ success: false, metadata: { reason: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" } });
  });

  it("denies a token whose kid is not in the JWKS", async () => {
    const result = await auth().check(bearer(await sign({ key: stranger.privateKey, kid: "k-unknown" })));
    expect(result).toMatchObject({ success: false, metadata: { reason: "ERR_JWKS_NO_MATCHING_KEY" } });
  });

  it("denies alg none", async () => {
    const token = new UnsecuredJWT({ role: "owner" })
      .setSubject("alice")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("10m")
      .encode();
    // An unsecured JWT ends with an empty signature: refused before any key lookup.
    expect((await auth().check(bearer(token))).success).toBe(false);
    expect((await auth().check(bearer(`${token}AAAA`))).success).toBe(false);
  });

  it("denies the wrong audience or issuer", async () => {
    expect(await auth().check(bearer(await sign({ audience: "someone-else" })))).toMatchObject({
      success: false,
      metadata: { reason: "ERR_JWT_CLAIM_VALIDATION_FAILED" },
    });
    expect((await auth().check(bearer(await sign({ issuer: "https://evil.example" })))).success).toBe(false);
  });

  it("denies an expired token and a token without exp", async () => {
    const expired = await sign({ expiresIn: Math.floor(Date.now() / 1000) - 3600 });
    expect(await auth().check(bearer(expired))).toMatchObject({
      success: false,
      metadata: { reason: "ERR_JWT_EXPIRED" },
    });
    const noExp = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject("alice")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(signing.privateKey);
    expect((await auth().check(bearer(noExp))).success).toBe(false);
  });

  it("denies a forged token: payload swapped under a valid signature", async () => {
    const [header, , signature] = (await sign()).split(".");
    const payload = Buffer.from(
      JSON.stringify({ sub: "alice", role: "owner", iss: ISSUER, aud: AUDIENCE, exp: 4102444800 }),
    ).toString("base64url");
    expect((await auth().check(bearer(`${header}.${payload}.${signature}`))).success).toBe(false);
  });

  it("denies a token without a role claim unless a default role is configured, and a malformed role", async () => {
    const noRole = await sign({ claims: { role: undefined } });
    expect(await auth().check(bearer(noRole))).toMatchObject({
      success: false,
      metadata: { reason: "missing or invalid role claim" },
    });
    expect(await auth({ defaultRole: "user" }).check(bearer(noRole))).toMatchObject({ success: true, role: "user" });
    expect((await auth().check(bearer(await sign({ claims: { role: ["owner"] } })))).success).toBe(false);
  });

  it("denies a missing header, another scheme, and a non-JWT bearer", async () => {
    const a = auth();
    expect((await a.check(gatewayRequest())).success).toBe(false);
    expect((await a.check(gatewayRequest({ headers: { authorization: `Basic ${await sign()}` } }))).success).toBe(
      false,
    );
    expect((await a.check(bearer("gh_notajwt"))).success).toBe(false);
  });

  it("fails closed when the JWKS endpoint is unreachable, logging no token", async () => {
    const down = jwtAuth({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: "http://127.0.0.1:1/jwks.json",
      algorithms: ["ES256"],
      jwksTimeoutMs: 2000,
    });
    const token = await sign();
    const logger = captureLogger();
    const result = await safeCheck(down, bearer(token), logger, "jwt");
    expect(result.success).toBe(false);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines.join("\n")).not.toContain(token);
  });
});

describe("jwtAuth with a static key", () => {
  it("admits a token verified by a PEM SPKI key and denies one by another key", async () => {
    const key = await exportSPKI(signing.publicKey);
    const a = jwtAuth({ issuer: ISSUER, audience: AUDIENCE, key, algorithms: ["ES256"] });
    expect((await a.check(bearer(await sign()))).success).toBe(true);
    expect((await a.check(bearer(await sign({ key: stranger.privateKey })))).success).toBe(false);
  });

  it("denies an HS256 token made with the public key as HMAC secret (algorithm confusion)", async () => {
    const pem = await exportSPKI(signing.publicKey);
    const forged = await new SignJWT({ role: "owner" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("alice")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(pem));
    const a = jwtAuth({ issuer: ISSUER, audience: AUDIENCE, key: pem, algorithms: ["ES256"] });
    expect(await a.check(bearer(forged))).toMatchObject({
      success: false,
      metadata: { reason: "ERR_JOSE_ALG_NOT_ALLOWED" },
    });
  });

  it("admits HS256 with a long enough shared secret and denies a wrong one", async () => {
    const secret = new Uint8Array(32).fill(7);
    const token = await new SignJWT({ role: "user" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("bob")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign(secret);
    expect(
      await jwtAuth({ issuer: ISSUER, audience: AUDIENCE, key: secret, algorithms: ["HS256"] }).check(bearer(token)),
    ).toMatchObject({ success: true, userId: "bob" });
    const other = jwtAuth({
      issuer: ISSUER,
      audience: AUDIENCE,
      key: new Uint8Array(32).fill(8),
      algorithms: ["HS256"],
    });
    expect((await other.check(bearer(token))).success).toBe(false);
  });

  it("refuses unsafe configuration, naming the field", async () => {
    const base = { issuer: ISSUER, audience: AUDIENCE, jwksUrl: "https://idp.example/jwks" };
    expect(() => jwtAuth({ ...base, algorithms: ["none"] })).toThrow(/jwt.algorithms/);
    expect(() => jwtAuth({ ...base, algorithms: ["HS256"] })).toThrow(/jwt.algorithms/);
    expect(() => jwtAuth({ ...base, algorithms: [] })).toThrow(/jwt.algorithms/);
    expect(() => jwtAuth({ ...base, jwksUrl: "http://idp.example/jwks", algorithms: ["RS256"] })).toThrow(
      /jwt.jwksUrl/,
    );
    expect(() => jwtAuth({ ...base, issuer: "", algorithms: ["RS256"] })).toThrow(/jwt.issuer/);
    expect(() => jwtAuth({ issuer: ISSUER, audience: AUDIENCE, algorithms: ["RS256"] })).toThrow(
      /exactly one of jwksUrl or key/,
    );
    expect(() =>
      jwtAuth({ issuer: ISSUER, audience: AUDIENCE, key: new Uint8Array(8), algorithms: ["HS256"] }),
    ).toThrow(/32 bytes/);
  });
});
