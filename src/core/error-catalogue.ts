/**
 * The one catalogue of gatehouse's stable error codes (GH_ERR_*): the library's error classes and every error the
 * HTTP API and the WebSocket protocol send. `wire` is the `error.code` a client sees beside `error.ghCode`; `status` is
 * the HTTP status. Docs list the same codes (src/gateway/README.md, "Error codes"; test/error-codes.test.ts keeps them
 * equal). Match on a code, never on a message.
 */

/** Short codes of the HTTP API and the WebSocket protocol (`error.code`), kept for clients that read them. */
export type GatewayErrorCode =
  | "unauthenticated"
  | "forbidden"
  | "origin_not_allowed"
  | "invalid_json"
  | "invalid_request"
  | "payload_too_large"
  | "unsupported_media_type"
  | "not_found"
  | "unknown_method"
  | "rate_limited"
  | "connect_required"
  | "not_supported_by_store"
  | "unavailable"
  | "degraded"
  | "agent_error"
  | "internal";

interface CatalogueEntry {
  /** The class a library caller catches (GatewayError for errors only the gateway raises). */
  error: string;
  wire: GatewayErrorCode;
  status: number;
  meaning: string;
}

/** Every stable error code, what it means, and how it reaches a client. */
export const ERROR_CODES = {
  GH_ERR_PAIRING_INPUT: {
    error: "PairingInputError",
    wire: "invalid_request",
    status: 400,
    meaning: "a store refused an argument; `field` names it",
  },
  GH_ERR_PAIRING_LIMIT: {
    error: "PairingLimitError",
    wire: "rate_limited",
    status: 429,
    meaning: "too many live pending codes for this channel type",
  },
  GH_ERR_PAIRING_COOLDOWN: {
    error: "PairingCooldownError",
    wire: "rate_limited",
    status: 429,
    meaning: "this sender was denied recently",
  },
  GH_ERR_STORE_UNAVAILABLE: {
    error: "StoreUnavailableError",
    wire: "unavailable",
    status: 503,
    meaning: "the store did not answer; nothing changed",
  },
  GH_ERR_STORE_DEADLINE: {
    error: "StoreDeadlineError",
    wire: "unavailable",
    status: 503,
    meaning: "the store was slower than its deadline; nothing changed",
  },
  GH_ERR_SECRET_MISMATCH: {
    error: "SecretMismatchError",
    wire: "internal",
    status: 500,
    meaning: "the store was set up with another gateway secret",
  },
  GH_ERR_CODE_GENERATION: {
    error: "CodeGenerationError",
    wire: "internal",
    status: 500,
    meaning: "no unused code could be drawn: the random source is broken",
  },
  GH_ERR_TOKEN_EXISTS: {
    error: "TokenExistsError",
    wire: "internal",
    status: 500,
    meaning: "a token with this id or hash is already stored",
  },
  GH_ERR_UNAUTHENTICATED: {
    error: "GatewayError",
    wire: "unauthenticated",
    status: 401,
    meaning: "no valid token, session or device proof",
  },
  GH_ERR_FORBIDDEN: {
    error: "GatewayError",
    wire: "forbidden",
    status: 403,
    meaning: "authenticated, but the role may not do this",
  },
  GH_ERR_ORIGIN_NOT_ALLOWED: {
    error: "GatewayError",
    wire: "origin_not_allowed",
    status: 403,
    meaning: "a browser Origin or Host the gateway does not serve",
  },
  GH_ERR_INVALID_JSON: {
    error: "GatewayError",
    wire: "invalid_json",
    status: 400,
    meaning: "the body or frame is not JSON",
  },
  GH_ERR_INVALID_REQUEST: {
    error: "GatewayError",
    wire: "invalid_request",
    status: 400,
    meaning: "a field is missing or wrong; `field` names it",
  },
  GH_ERR_PAYLOAD_TOO_LARGE: {
    error: "GatewayError",
    wire: "payload_too_large",
    status: 413,
    meaning: "the body or frame is over its limit",
  },
  GH_ERR_UNSUPPORTED_MEDIA_TYPE: {
    error: "GatewayError",
    wire: "unsupported_media_type",
    status: 415,
    meaning: "the body is not JSON",
  },
  GH_ERR_NOT_FOUND: { error: "GatewayError", wire: "not_found", status: 404, meaning: "no such route or record" },
  GH_ERR_UNKNOWN_METHOD: {
    error: "GatewayError",
    wire: "unknown_method",
    status: 400,
    meaning: "no such WebSocket method",
  },
  GH_ERR_RATE_LIMITED: {
    error: "GatewayError",
    wire: "rate_limited",
    status: 429,
    meaning: "too many requests, frames or sign-in attempts",
  },
  GH_ERR_CONNECT_REQUIRED: {
    error: "GatewayError",
    wire: "connect_required",
    status: 400,
    meaning: "a WebSocket frame came before connect",
  },
  GH_ERR_NOT_SUPPORTED_BY_STORE: {
    error: "GatewayError",
    wire: "not_supported_by_store",
    status: 501,
    meaning: "the configured store lacks this optional capability",
  },
  GH_ERR_UNAVAILABLE: {
    error: "GatewayError",
    wire: "unavailable",
    status: 503,
    meaning: "a store or dependency is down; nothing changed",
  },
  GH_ERR_DEGRADED: {
    error: "GatewayError",
    wire: "degraded",
    status: 503,
    meaning: "a channel is not working (GET /healthz)",
  },
  GH_ERR_AGENT_ERROR: {
    error: "GatewayError",
    wire: "agent_error",
    status: 502,
    meaning: "the agent failed or could not be reached",
  },
  GH_ERR_INTERNAL: {
    error: "GatewayError",
    wire: "internal",
    status: 500,
    meaning: "anything else; details are only in the log",
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The catalogue code of an error the gateway raises itself, e.g. `rate_limited` → GH_ERR_RATE_LIMITED. */
export function catalogueCodeOf(wire: GatewayErrorCode): ErrorCode {
  return `GH_ERR_${wire.toUpperCase()}` as ErrorCode;
}

/** The catalogue code a library error carries, or undefined for anything else. */
export function libraryCodeOf(error: unknown): ErrorCode | undefined {
  const code =
    typeof error === "object" && error !== null && "code" in error ? (error as { code: unknown }).code : undefined;
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : undefined;
}
