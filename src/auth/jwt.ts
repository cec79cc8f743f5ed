import { createRemoteJWKSet, errors, importJWK, importSPKI, jwtVerify, type JWK, type JWTVerifyGetKey } from "jose";
import type { AuthProtocol, AuthResult, GatewayRequest } from "../protocols/types.js";
import { idProblem } from "../pairing/validation.js";
import { isLoopbackAddress } from "./address.js";
import { presentedCredential } from "./headers.js";
import { allow, deny } from "./result.js";
import { roleProblem } from "./token.js";

const ASYMMETRIC = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);
const SYMMETRIC = new Set(["HS256", "HS384", "HS512"]);
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_JWT_LENGTH = 16 * 1024;

export interface JwtAuthOptions {
  issuer: string;
  audience: string | string[];
  /** A JWKS endpoint (https, or http on loopback only). Give this or `key`. */
  jwksUrl?: string;
  /** A PEM SPKI public key, a public JWK, a CryptoKey, or an HMAC secret (Uint8Array, at least 32 bytes) for HS*. */
  key?: string | JWK | CryptoKey | Uint8Array;
  /** Allowed algorithms; "none" is never accepted, and HS* only with an HMAC secret. */
  algorithms: string[];
  /** The claim holding the role; default "role". */
  roleClaim?: string;
  /** The claim holding the user id; default "sub". */
  userClaim?: string;
  /** Role for tokens without a role claim; without it such tokens are denied. */
  defaultRole?: string;
  /** Seconds of clock skew tolerated on exp/nbf; default 5. */
  clockToleranceSeconds?: number;
  /** JWKS fetch timeout in milliseconds; default 5000. */
  jwksTimeoutMs?: number;
}

/**
 * JWT bearer auth with jose: signature, issuer, audience, exp (required) and nbf are checked; role and user come
 * from the verified claims only. Verification failures deny; an unreachable JWKS throws (the caller fails closed and logs).
 */
export function jwtAuth(options: JwtAuthOptions): AuthProtocol & { name: string } {
  const settings = validateOptions(options);
  let keyPromise: Promise<JWTVerifyGetKey | CryptoKey | Uint8Array> | undefined;
  const resolveKey = () => (keyPromise ??= loadKey(options, settings.algorithms));
  return {
    name: "jwt",
    async check(request: GatewayRequest): Promise<AuthResult> {
      const token = presentedCredential(request);
      if (token === undefined) return deny("no token", "jwt");
      if (token.length > MAX_JWT_LENGTH || !JWT_SHAPE.test(token)) return deny("not a JWT", "jwt");
      const key = await resolveKey();
      let payload: Record<string, unknown>;
      try {
        const verified = await jwtVerify(token, key as JWTVerifyGetKey, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: settings.algorithms,
          clockTolerance: settings.clockTolerance,
          requiredClaims: ["exp", settings.userClaim],
        });
        payload = verified.payload;
      } catch (error) {
        if (isVerificationFailure(error)) return deny(error.code, "jwt");
        throw error;
      }
      const userId = payload[settings.userClaim];
      if (typeof userId !== "string" || idProblem(userId) !== null) return deny("invalid user claim", "jwt");
      const role = payload[settings.roleClaim] ?? options.defaultRole;
      if (typeof role !== "string" || roleProblem(role) !== null) return deny("missing or invalid role claim", "jwt");
      return allow(userId, role, { backend: "jwt", issuer: options.issuer });
    },
  };
}

interface Settings {
  algorithms: string[];
  roleClaim: string;
  userClaim: string;
  clockTolerance: number;
}

function validateOptions(options: JwtAuthOptions): Settings {
  if (!options || typeof options !== "object") throw new TypeError("jwt options must be an object");
  if (typeof options.issuer !== "string" || options.issuer === "")
    throw new TypeError("jwt.issuer must be a non-empty string");
  const audiences = Array.isArray(options.audience) ? options.audience : [options.audience];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== "string" || a === "")) {
    throw new TypeError("jwt.audience must be a non-empty string or list of strings");
  }
  if ((options.jwksUrl === undefined) === (options.key === undefined))
    throw new TypeError("jwt needs exactly one of jwksUrl or key");
  const algorithms = options.algorithms;
  if (!Array.isArray(algorithms) || algorithms.length === 0)
    throw new TypeError("jwt.algorithms must list at least one algorithm");
  const symmetricKey = options.key instanceof Uint8Array;
  for (const alg of algorithms) {
    if (typeof alg !== "string" || alg.toLowerCase() === "none")
      throw new TypeError(`jwt.algorithms: "${String(alg)}" is not allowed`);
    const allowed = symmetricKey ? SYMMETRIC : ASYMMETRIC;
    if (!allowed.has(alg)) {
      throw new TypeError(
        `jwt.algorithms: "${alg}" is not allowed with ${symmetricKey ? "an HMAC secret" : "a public key or JWKS"}`,
      );
    }
  }
  if (symmetricKey && (options.key as Uint8Array).byteLength < 32)
    throw new TypeError("jwt.key: an HMAC secret needs at least 32 bytes");
  if (options.jwksUrl !== undefined) assertJwksUrl(options.jwksUrl);
  const tolerance = options.clockToleranceSeconds ?? 5;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 300) {
    throw new TypeError("jwt.clockToleranceSeconds must be between 0 and 300");
  }
  return {
    algorithms: [...algorithms],
    roleClaim: claimName(options.roleClaim ?? "role", "jwt.roleClaim"),
    userClaim: claimName(options.userClaim ?? "sub", "jwt.userClaim"),
    clockTolerance: tolerance,
  };
}

function assertJwksUrl(value: unknown): void {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError("jwt.jwksUrl must be a URL");
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || isLoopbackAddress(host);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new TypeError("jwt.jwksUrl must use https (plain http only on loopback)");
  }
}

function claimName(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw new TypeError(`${field} must be a non-empty string`);
  return value;
}

async function loadKey(
  options: JwtAuthOptions,
  algorithms: string[],
): Promise<JWTVerifyGetKey | CryptoKey | Uint8Array> {
  if (options.jwksUrl !== undefined) {
    return createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: options.jwksTimeoutMs ?? 5000 });
  }
  const key = options.key;
  const alg = algorithms[0] ?? "";
  if (typeof key === "string") return importSPKI(key, alg);
  if (key instanceof Uint8Array) return key;
  if (isJwk(key)) {
    if (typeof key.d === "string") throw new TypeError("jwt.key must be a public key, not a private JWK");
    return (await importJWK(key, key.alg ?? alg)) as CryptoKey;
  }
  return key as CryptoKey;
}

function isJwk(value: unknown): value is JWK {
  return value !== null && typeof value === "object" && typeof (value as { kty?: unknown }).kty === "string";
}

/** jose errors that mean "this token is no good" (as opposed to "the JWKS could not be fetched"). */
function isVerificationFailure(error: unknown): error is InstanceType<typeof errors.JOSEError> {
  if (!(error instanceof errors.JOSEError)) return false;
  return error.code !== "ERR_JWKS_TIMEOUT" && !(error.code === "ERR_JOSE_GENERIC" && /fetch|JWKS/i.test(error.message));
}
