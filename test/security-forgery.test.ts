/**
 * Forgery: valid credentials of every kind mutated byte by byte (and re-signed with the wrong key, the wrong claims, no
 * algorithm) must never be accepted. Every attempt is counted; the summary is printed and the accepted count must be 0.
 */
import { createHmac, generateKeyPairSync, randomBytes, sign as edSign } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jwtAuth } from "../src/auth/jwt.js";
import { mintToken, tokenAuth } from "../src/auth/token.js";
import { discordPublicKey, verifyDiscordSignature } from "../src/channels/discord/signature.js";
import { verifySlackSignature } from "../src/channels/slack/signature.js";
import { buttonKey, signButtonToken, verifyButtonToken } from "../src/pairing/buttons.js";
import { MemoryTokenStore } from "../src/stores/memory/index.js";
import { gatewayRequest } from "./auth-helpers.js";
import { channelPlugin } from "../src/channels/router.js";
import { TelegramAdapter } from "../src/channels/telegram/index.js";
import { LocalBotApi } from "./channels-telegram-api.js";
import { testClock, testGateway } from "./channels-context.js";

const tally = {
  tried: 0,
  accepted: 0,
  byKind: {} as Record<string, { tried: number; accepted: number }>,
  examples: [] as string[],
};
function count(kind: string, accepted: boolean, what: unknown = ""): void {
  tally.tried += 1;
  if (accepted) tally.examples.push(`${kind}: ${String(what).slice(0, 200)}`);
  const entry = (tally.byKind[kind] ??= { tried: 0, accepted: 0 });
  entry.tried += 1;
  if (accepted) {
    tally.accepted += 1;
    entry.accepted += 1;
  }
}
afterAll(() => {
  console.log(
    `FORGERY SUMMARY: ${tally.tried} forgeries tried, ${tally.accepted} accepted ${JSON.stringify(tally.byKind)}`,
  );
  if (tally.examples.length > 0) console.log(`ACCEPTED FORGERIES:\n${tally.examples.join("\n")}`);
});

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX = "0123456789abcdef";

/** Every string that differs from `value` in exactly one character (drawn from `alphabet`). */
function* singleCharMutations(value: string, alphabet: string, perPosition = alphabet.length): Generator<string> {
  for (let i = 0; i < value.length; i++) {
    let produced = 0;
    for (const ch of alphabet) {
      if (ch === value[i]) continue;
      if (produced++ >= perPosition) break;
      yield value.slice(0, i) + ch + value.slice(i + 1);
    }
  }
}

/** Every buffer that differs from `bytes` in exactly one byte (each byte XORed with each of `masks`). */
function* byteMutations(bytes: Buffer, masks: number[]): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of masks) {
      const copy = Buffer.from(bytes);
      copy[i] = (copy[i] ?? 0) ^ mask;
      yield copy;
    }
  }
}

/** Truncations, extensions and whitespace around a credential. */
function framing(value: string): string[] {
  return [
    value.slice(0, -1),
    value.slice(1),
    `${value}A`,
    `A${value}`,
    ` ${value}`,
    `${value} `,
    `${value}\n`,
    value.toUpperCase(),
    value.toLowerCase(),
    "",
  ].filter((v) => v !== value);
}

const ALL_MASKS = Array.from({ length: 255 }, (_, i) => i + 1);

describe("button tokens", () => {
  const key = buttonKey(randomBytes(32));
  const now = Date.UTC(2026, 0, 1);
  const claims = {
    action: "approve" as const,
    channelType: "telegram",
    code: "ABCD-EFGH",
    recipient: "900",
    expiresAt: now + 3_600_000,
  };
  const token = signButtonToken(key, claims);
  const verify = (candidate: string, ctx = { channelType: "telegram", pressedBy: "900", now }) =>
    verifyButtonToken(key, candidate, ctx).ok;

  it("the genuine token verifies (the harness can tell)", () => {
    expect(verify(token)).toBe(true);
  });

  it("every single-byte change of the 28 token bytes (x255) is refused", () => {
    const raw = Buffer.from(token, "base64url");
    for (const mutated of byteMutations(raw, ALL_MASKS)) count("button-bytes", verify(mutated.toString("base64url")));
    expect(tally.byKind["button-bytes"]).toEqual({ tried: 28 * 255, accepted: 0 });
  });

  it("every single-character change of the 38-character token, and framing changes, are refused", () => {
    for (const mutated of [...singleCharMutations(token, B64URL), ...framing(token)])
      count("button-chars", verify(mutated), mutated);
    expect(tally.byKind["button-chars"]!.accepted).toBe(0);
  });

  it("the genuine token in another channel, for another presser, after expiry or under another key is refused", () => {
    const contexts = [
      { channelType: "discord", pressedBy: "900", now },
      { channelType: "telegram", pressedBy: "901", now },
      { channelType: "telegram", pressedBy: "9000", now },
      { channelType: "telegram", pressedBy: "900", now: claims.expiresAt + 1000 },
    ];
    for (const ctx of contexts) count("button-context", verify(token, ctx));
    count(
      "button-context",
      verifyButtonToken(buttonKey(randomBytes(32)), token, { channelType: "telegram", pressedBy: "900", now }).ok,
    );
    for (const junk of [null, 42, {}, [], "x".repeat(38), "A".repeat(38), "_".repeat(38), token.repeat(2)])
      count("button-context", verifyButtonToken(key, junk, { channelType: "telegram", pressedBy: "900", now }).ok);
    expect(tally.byKind["button-context"]!.accepted).toBe(0);
  });
});

describe("API tokens", () => {
  it("every single-character change and framing change of a minted token is refused", async () => {
    const tokens = new MemoryTokenStore();
    const { token } = await mintToken(tokens, { role: "owner", userId: "root" });
    const auth = tokenAuth(tokens);
    const check = async (candidate: string) =>
      (await auth.check(gatewayRequest({ headers: { authorization: `Bearer ${candidate}` } }))).success;
    expect(await check(token)).toBe(true);
    // Blanks around the Bearer value are the same credential (HTTP trims them), so they are no forgery.
    const variants = [
      ...singleCharMutations(token, B64URL, 8),
      ...framing(token),
      token.replace("gh_", "gH_"),
      token.replace("gh_", ""),
    ];
    for (const mutated of variants.filter((v) => v.trim() !== token)) {
      count("api-token", await check(mutated), mutated);
      count(
        "api-token",
        (await auth.check(gatewayRequest({ transport: "ws", connectParams: { token: mutated } }))).success,
      );
    }
    expect(tally.byKind["api-token"]!.tried).toBeGreaterThan(700);
    expect(tally.byKind["api-token"]!.accepted).toBe(0);
  });
});

describe("JWTs", () => {
  const ISSUER = "https://idp.example";
  const AUDIENCE = "gatehouse";
  let server: Server;
  let jwksUrl: string;
  let signing: { privateKey: CryptoKey; publicKey: CryptoKey };
  let attacker: { privateKey: CryptoKey; publicKey: CryptoKey };
  let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };

  beforeAll(async () => {
    signing = await generateKeyPair("ES256");
    attacker = await generateKeyPair("ES256");
    rsa = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(signing.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const claims = (extra: Record<string, unknown> = {}) => ({ role: "owner", ...extra });
  async function es256(
    options: {
      key?: CryptoKey;
      header?: Record<string, unknown>;
      aud?: string;
      iss?: string;
      exp?: number;
      nbf?: number;
      sub?: string;
    } = {},
  ): Promise<string> {
    const jwt = new SignJWT(claims())
      .setProtectedHeader({ alg: "ES256", kid: "k1", ...options.header })
      .setSubject(options.sub ?? "alice")
      .setIssuer(options.iss ?? ISSUER)
      .setAudience(options.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 600);
    if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
    return jwt.sign(options.key ?? signing.privateKey);
  }

  function rawJwt(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ""): string {
    const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
    return `${enc(header)}.${enc(payload)}.${signature}`;
  }

  it("crafted tokens (alg none, wrong key, audience, issuer, expiry, kid/jwk/jku injection, alg confusion) are refused", async () => {
    const auth = jwtAuth({ issuer: ISSUER, audience: AUDIENCE, jwksUrl, algorithms: ["ES256"] });
    const rsaAuth = jwtAuth({
      issuer: ISSUER,
      audience: AUDIENCE,
      key: await exportSPKI(rsa.publicKey),
      algorithms: ["RS256"],
    });
    const hsAuth = jwtAuth({
      issuer: ISSUER,
      audience: AUDIENCE,
      key: new Uint8Array(32).fill(7),
      algorithms: ["HS256"],
    });
    const check = async (a: typeof auth, token: string) =>
      (await a.check(gatewayRequest({ headers: { authorization: `Bearer ${token}` } }))).success;
    expect(await check(auth, await es256())).toBe(true);

    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: "alice", role: "owner", iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 };
    const attackerJwk = await exportJWK(attacker.publicKey);
    const pem = await exportSPKI(rsa.publicKey);
    const hmacWithPem = async (header: Record<string, unknown>) => {
      const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
      return `${input}.${createHmac("sha256", pem).update(input).digest("base64url")}`;
    };
    const crafted: Array<[string, typeof auth, string]> = [
      ["alg none", auth, new UnsecuredJWT(payload).encode()],
      ["alg none with kid", auth, rawJwt({ alg: "none", kid: "k1" }, payload)],
      ["alg None", auth, rawJwt({ alg: "None", kid: "k1" }, payload, "")],
      [
        "alg none + a genuine signature",
        auth,
        rawJwt({ alg: "none", kid: "k1" }, payload, (await es256()).split(".")[2]),
      ],
      [
        "genuine signature over altered claims",
        auth,
        rawJwt(
          { alg: "ES256", kid: "k1" },
          { ...payload, role: "owner", sub: "mallory" },
          (await es256()).split(".")[2],
        ),
      ],
      ["wrong key, right kid", auth, await es256({ key: attacker.privateKey })],
      ["wrong audience", auth, await es256({ aud: "someone-else" })],
      ["wrong issuer", auth, await es256({ iss: "https://evil.example" })],
      ["expired", auth, await es256({ exp: now - 60 })],
      ["not yet valid", auth, await es256({ nbf: now + 3600 })],
      ["kid path traversal", auth, await es256({ key: attacker.privateKey, header: { kid: "../../../../dev/null" } })],
      ["kid SQL injection", auth, await es256({ key: attacker.privateKey, header: { kid: "' UNION SELECT 'k1" } })],
      ["kid of an unknown key", auth, await es256({ key: attacker.privateKey, header: { kid: "k2" } })],
      ["embedded jwk", auth, await es256({ key: attacker.privateKey, header: { jwk: attackerJwk } })],
      [
        "jku to the attacker",
        auth,
        await es256({ key: attacker.privateKey, header: { jku: "http://127.0.0.1:1/jwks.json" } }),
      ],
      [
        "x5u to the attacker",
        auth,
        await es256({ key: attacker.privateKey, header: { x5u: "http://127.0.0.1:1/cert.pem" } }),
      ],
      ["HS256 keyed with the RS256 public key", rsaAuth, await hmacWithPem({ alg: "HS256" })],
      ["HS256 under an RS256 verifier, typ JWT", rsaAuth, await hmacWithPem({ alg: "HS256", typ: "JWT" })],
      [
        "HS256 with another secret",
        hsAuth,
        await new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).sign(new Uint8Array(32).fill(8)),
      ],
      [
        "HS512 not allowed",
        hsAuth,
        await new SignJWT(payload).setProtectedHeader({ alg: "HS512" }).sign(new Uint8Array(64).fill(7)),
      ],
      [
        "unknown crit header",
        auth,
        rawJwt({ alg: "ES256", kid: "k1", crit: ["x-gh"], "x-gh": 1 }, payload, (await es256()).split(".")[2]),
      ],
      ["sub missing", auth, rawJwt({ alg: "ES256", kid: "k1" }, { ...payload, sub: undefined })],
    ];
    const accepted: string[] = [];
    for (const [name, verifier, token] of crafted) {
      const ok = await check(verifier, token).catch(() => false);
      count("jwt-crafted", ok);
      if (ok) accepted.push(name);
    }
    expect(accepted).toEqual([]);
  });

  it("every single-character change of a valid token's header, payload and signature is refused", async () => {
    const auth = jwtAuth({
      issuer: ISSUER,
      audience: AUDIENCE,
      key: new Uint8Array(32).fill(7),
      algorithms: ["HS256"],
    });
    const genuine = await new SignJWT({ role: "owner" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("alice")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("10m")
      .sign(new Uint8Array(32).fill(7));
    const check = async (token: string) =>
      (await auth.check(gatewayRequest({ headers: { authorization: `Bearer ${token}` } }))).success;
    expect(await check(genuine)).toBe(true);
    const decoded = (t: string) =>
      t
        .split(".")
        .map((part) => Buffer.from(part, "base64url").toString("hex"))
        .join(".");
    const original = decoded(genuine);
    let sameBytes = 0;
    for (const mutated of [...singleCharMutations(genuine, `${B64URL}.`, 6), ...framing(genuine)]) {
      const ok = await check(mutated);
      // A change in the unused low bits of the last base64url character decodes to the very same bytes: not a forgery.
      if (ok && decoded(mutated) === original) {
        sameBytes += 1;
        continue;
      }
      count("jwt-mutated", ok);
    }
    expect(tally.byKind["jwt-mutated"]!.tried).toBeGreaterThan(1000);
    expect(tally.byKind["jwt-mutated"]!.accepted).toBe(0);
    expect(sameBytes).toBeLessThanOrEqual(6);
  });
});

describe("Slack and Discord request signatures", () => {
  const now = Date.UTC(2026, 0, 1);
  const ts = String(Math.floor(now / 1000));
  const body = JSON.stringify({ type: "block_actions", user: { id: "UOWNER" }, actions: [{ value: "approve" }] });

  it("Slack v0: every hex digit of the signature, every body byte and the timestamp mutated → refused", () => {
    const signingSecret = randomBytes(16).toString("hex");
    const signature = `v0=${createHmac("sha256", signingSecret).update(`v0:${ts}:${body}`).digest("hex")}`;
    // Explicit arguments (no defaults), so an `undefined` header is tested as missing rather than replaced by the genuine one.
    const verify = (s: string | undefined, b: string | Buffer, t: string | undefined, secret: string) =>
      verifySlackSignature({ signingSecret: secret, signature: s, timestamp: t, body: b, now }).ok;
    expect(verify(signature, body, ts, signingSecret)).toBe(true);
    for (const mutated of singleCharMutations(signature.slice(3), HEX))
      count("slack", verify(`v0=${mutated}`, body, ts, signingSecret), mutated);
    for (const mutated of byteMutations(Buffer.from(body), [1, 0x20, 0x80]))
      count("slack", verify(signature, mutated, ts, signingSecret), mutated);
    for (const t of [String(Number(ts) + 1), String(Number(ts) - 1), `0${ts}`, String(Number(ts) + 301), "", undefined])
      count("slack", verify(signature, body, t, signingSecret), t);
    for (const s of [
      signature.toUpperCase(),
      `v1=${signature.slice(3)}`,
      signature.slice(0, -1),
      `${signature}0`,
      "",
      undefined,
    ])
      count("slack", verify(s, body, ts, signingSecret), `sig ${s}`);
    count("slack", verify(signature, body, ts, `${signingSecret}x`), "other secret");
    expect(tally.byKind.slack!.tried).toBeGreaterThan(1000);
    expect(tally.byKind.slack!.accepted).toBe(0);
  });

  it("Discord Ed25519: every hex digit of the signature, every body byte and the timestamp mutated → refused", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const hexKey = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("hex");
    const key = discordPublicKey(hexKey);
    const signature = edSign(null, Buffer.from(ts + body), privateKey).toString("hex");
    const verify = (s: string | undefined, b: string | Buffer, t: string | undefined, k: typeof key) =>
      verifyDiscordSignature(k, { signature: s, timestamp: t, body: b, now }).ok;
    expect(verify(signature, body, ts, key)).toBe(true);
    for (const mutated of singleCharMutations(signature, HEX))
      count("discord", verify(mutated, body, ts, key), mutated);
    for (const mutated of byteMutations(Buffer.from(body), [1, 0x20, 0x80]))
      count("discord", verify(signature, mutated, ts, key), mutated);
    for (const t of [String(Number(ts) + 1), `0${ts}`, String(Number(ts) - 301), undefined])
      count("discord", verify(signature, body, t, key), t);
    const other = generateKeyPairSync("ed25519").publicKey;
    count(
      "discord",
      verify(
        signature,
        body,
        ts,
        discordPublicKey(Buffer.from(other.export({ format: "jwk" }).x!, "base64url").toString("hex")),
      ),
      "other key",
    );
    for (const s of ["0".repeat(128), "f".repeat(128), signature.slice(0, 64) + "0".repeat(64), undefined])
      count("discord", verify(s, body, ts, key), `sig ${s}`);
    expect(tally.byKind.discord!.tried).toBeGreaterThan(2000);
    expect(tally.byKind.discord!.accepted).toBe(0);
  });
});

describe("Telegram webhook secret token", () => {
  it("every single-character change and framing change of the secret header is refused over real HTTP; the genuine one is served", async () => {
    const botToken = "123456789:AAH-local_test_token_abcdefghijklmnopq";
    const secret = "webhook_secret_0123456789abcdef";
    const api = new LocalBotApi(botToken);
    const apiRoot = await api.listen();
    const clock = testClock(Date.now());
    const gw = await testGateway({ clock, policy: { ownerUserIds: ["900"] } });
    const adapter = new TelegramAdapter({
      token: botToken,
      apiRoot,
      mode: "webhook",
      webhook: { secretToken: secret, port: 0 },
    });
    const plugin = channelPlugin(adapter, { now: clock.now });
    await plugin.start(gw.ctx);
    try {
      const url = `http://127.0.0.1:${adapter.address()!.port}/telegram/webhook`;
      const body = JSON.stringify({ update_id: 1, ...api.message(42, "hello") });
      const post = async (token: string) =>
        (
          await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": token },
            body,
          })
        ).status;
      const variants = [...singleCharMutations(secret, B64URL, 4), ...framing(secret)].filter(
        (v) => v.trim() !== secret && v !== "",
      );
      for (const variant of variants) {
        const status = await post(variant);
        count("telegram-webhook", status !== 401, variant);
      }
      expect(tally.byKind["telegram-webhook"]!.tried).toBeGreaterThan(120);
      expect(tally.byKind["telegram-webhook"]!.accepted).toBe(0);
      expect(api.callsOf("sendMessage")).toHaveLength(0);
      expect(await post(secret)).toBe(200);
    } finally {
      await plugin.stop();
      await api.close();
      await gw.close();
    }
  });
});
