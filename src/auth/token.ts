import { createHash, randomBytes } from "node:crypto";
import type { AuthProtocol, AuthResult, GatewayRequest } from "../protocols/types.js";
import { safeEqual } from "../pairing/hashing.js";
import { idProblem } from "../pairing/validation.js";
import type { ApiTokenRecord, TokenStore } from "../stores/types.js";
import { presentedCredential } from "./headers.js";
import { TokenExistsError } from "./token-errors.js";
import { allow, deny } from "./result.js";

export const TOKEN_PREFIX = "gh_";
/**
 * The fixed id of the owner token minted on a gateway's first start. Every instance claims the same id, so the store's
 * unique key lets exactly one of several gateways starting at once on an empty store create it.
 */
export const FIRST_OWNER_TOKEN_ID = "tok_first_owner";
/** `gh_` + 32 random bytes in base64url (43 characters): anything else is refused before any store access. */
const TOKEN_FORMAT = /^gh_[A-Za-z0-9_-]{43}$/;
export const ROLE_FORMAT = /^[a-z][a-z0-9_-]{0,31}$/;
const MAX_LABEL_LENGTH = 100;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface MintTokenOptions {
  role: string;
  /** Who the token acts as; default `token:<id>`. */
  userId?: string;
  label?: string;
  now?: () => number;
}

export interface MintedToken {
  id: string;
  /** The bearer token: shown once, never stored. */
  token: string;
  record: ApiTokenRecord;
}

/** Hex SHA-256 of a token: the only form a token is ever stored in. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Whether a string has the shape of a minted token (so empty strings and placeholders never reach the store). */
export function isTokenShaped(value: unknown): value is string {
  return typeof value === "string" && TOKEN_FORMAT.test(value);
}

/** Why a role name is unacceptable, or null. */
export function roleProblem(role: unknown): string | null {
  if (typeof role !== "string") return "must be a string";
  if (!ROLE_FORMAT.test(role)) return "must be 1-32 lower-case letters, digits, '_' or '-', starting with a letter";
  return null;
}

/** Creates a token with a role, stores only its hash, and returns the token once. */
export async function mintToken(tokens: TokenStore, options: MintTokenOptions): Promise<MintedToken> {
  return mintWithId(tokens, `tok_${randomBytes(9).toString("base64url")}`, options);
}

/**
 * The first-start owner token: minted only when the store holds no token, under {@link FIRST_OWNER_TOKEN_ID}. Of
 * several processes or instances racing on one empty store exactly one gets the token; the others get null (and, like
 * any later start, print nothing). Any other store failure is thrown.
 */
export async function mintFirstOwnerToken(tokens: TokenStore, now?: () => number): Promise<MintedToken | null> {
  assertTokenStore(tokens);
  if ((await tokens.count()) > 0) return null;
  try {
    return await mintWithId(tokens, FIRST_OWNER_TOKEN_ID, {
      role: "owner",
      userId: "owner",
      label: "created on first start",
      now,
    });
  } catch (error) {
    if (error instanceof TokenExistsError && error.field === "id") return null;
    throw error;
  }
}

async function mintWithId(tokens: TokenStore, id: string, options: MintTokenOptions): Promise<MintedToken> {
  assertTokenStore(tokens);
  const problem = roleProblem(options?.role);
  if (problem) throw new TypeError(`role ${problem}`);
  if (options.userId !== undefined) {
    const idIssue = idProblem(options.userId);
    if (idIssue) throw new TypeError(`userId ${idIssue}`);
  }
  const label = options.label ?? "";
  if (typeof label !== "string" || label.length > MAX_LABEL_LENGTH || CONTROL.test(label)) {
    throw new TypeError(`label must be a string of at most ${MAX_LABEL_LENGTH} characters without control characters`);
  }
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const record: ApiTokenRecord = {
    id,
    hash: hashToken(token),
    role: options.role,
    userId: options.userId ?? `token:${id}`,
    label,
    createdAt: (options.now ?? Date.now)(),
  };
  await tokens.insert(record);
  return { id, token, record };
}

/**
 * API-token auth: `Authorization: Bearer gh_…` or the WebSocket connect frame's `token`. The token is hashed, looked up
 * by hash, and the stored hash compared in constant time. Role and user come from the stored record only.
 * Every lookup goes to the store, so a deleted token stops working on the next request in every process.
 */
export function tokenAuth(tokens: TokenStore): AuthProtocol & { name: string } {
  assertTokenStore(tokens);
  return {
    name: "token",
    async check(request: GatewayRequest): Promise<AuthResult> {
      const presented = presentedCredential(request);
      if (presented === undefined) return deny("no token", "token");
      if (!isTokenShaped(presented)) return deny("malformed token", "token");
      const hash = hashToken(presented);
      const record = await tokens.findByHash(hash);
      if (!record || !safeEqual(record.hash, hash)) return deny("unknown token", "token");
      return allow(record.userId, record.role, { backend: "token", tokenId: record.id, label: record.label });
    },
  };
}

function assertTokenStore(tokens: unknown): asserts tokens is TokenStore {
  const record = tokens as Record<string, unknown> | null | undefined;
  const missing = ["insert", "findByHash", "list", "delete", "count"].filter((m) => typeof record?.[m] !== "function");
  if (missing.length > 0) throw new TypeError(`token store is missing: ${missing.join(", ")}`);
}
