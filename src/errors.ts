/**
 * The catalogue of errors gatehouse throws, each with a stable `code` (fastify's FST_ERR_* style), and how each one
 * reaches a client: every HTTP error body and WebSocket error frame carries it as `error.ghCode` beside the short
 * `error.code` (`wire` in the catalogue). Match on a code, never on a message.
 */
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

export { ERROR_CODES, type ErrorCode } from "./core/error-catalogue.js";
