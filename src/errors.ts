/**
 * The catalogue of errors gatehouse throws, each with a stable `code` (fastify's FST_ERR_* style), and how each one
 * reaches a client: `wire` is the `error.code` the HTTP API and the WebSocket protocol send for it (GatewayError's own
 * codes are the wire codes). Match on `code`, never on a message.
 */
import type { GatewayErrorCode } from "./core/errors.js";

export { GatewayError, type ErrorBody, type GatewayErrorCode } from "./core/errors.js";
export { StoreDeadlineError } from "./core/deadline.js";
export {
  CodeGenerationError,
  PairingCooldownError,
  PairingInputError,
  PairingLimitError,
  SecretMismatchError,
  StoreUnavailableError,
} from "./pairing/errors.js";
export { TokenExistsError } from "./auth/token-errors.js";

/** Every library error code, what it means, and the wire code a client sees for it. */
export const ERROR_CODES = {
  GH_ERR_PAIRING_INPUT: { error: "PairingInputError", wire: "invalid_request", meaning: "a store refused an argument; `field` names it" },
  GH_ERR_PAIRING_LIMIT: { error: "PairingLimitError", wire: "rate_limited", meaning: "too many live pending codes for this channel type" },
  GH_ERR_PAIRING_COOLDOWN: { error: "PairingCooldownError", wire: "rate_limited", meaning: "this sender was denied recently" },
  GH_ERR_STORE_UNAVAILABLE: { error: "StoreUnavailableError", wire: "unavailable", meaning: "the store did not answer; nothing changed" },
  GH_ERR_STORE_DEADLINE: { error: "StoreDeadlineError", wire: "unavailable", meaning: "the store was slower than its deadline; nothing changed" },
  GH_ERR_SECRET_MISMATCH: { error: "SecretMismatchError", wire: "internal", meaning: "the store was set up with another gateway secret" },
  GH_ERR_CODE_GENERATION: { error: "CodeGenerationError", wire: "internal", meaning: "no unused code could be drawn: the random source is broken" },
  GH_ERR_TOKEN_EXISTS: { error: "TokenExistsError", wire: "internal", meaning: "a token with this id or hash is already stored" },
} as const satisfies Record<string, { error: string; wire: GatewayErrorCode; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
