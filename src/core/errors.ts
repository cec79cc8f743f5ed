import { z } from "zod";
import { PairingInputError, StoreUnavailableError } from "../pairing/errors.js";
import { StoreDeadlineError } from "./deadline.js";
import {
  catalogueCodeOf,
  ERROR_CODES,
  type ErrorCode,
  type GatewayErrorCode,
  libraryCodeOf,
} from "./error-catalogue.js";

export type { GatewayErrorCode } from "./error-catalogue.js";

/** An error whose code and message are safe to show to the client (never a code, token or secret). */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly field?: string,
    /** The catalogue code (src/core/error-catalogue.ts); by default the one of `code`, e.g. GH_ERR_RATE_LIMITED. */
    readonly ghCode: ErrorCode = catalogueCodeOf(code),
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_CODES[catalogueCodeOf(this.code)].status;
  }
}

/**
 * A feature the configured store does not offer (a store may implement only the six protocol methods; see
 * docs/protocols.md#optional-capabilities): `not_supported_by_store`, naming the feature and what the store lacks.
 */
export function notSupportedByStore(feature: string, missing: string): GatewayError {
  return new GatewayError("not_supported_by_store", `not supported by this store: ${feature} (${missing})`);
}

export interface ErrorBody {
  code: GatewayErrorCode;
  /** The stable catalogue code (GH_ERR_*), the most specific one known, e.g. GH_ERR_PAIRING_LIMIT. */
  ghCode: ErrorCode;
  message: string;
  field?: string;
}

/** What a client sees for any thrown error: ours as they are, store failures as "unavailable", the rest as "internal". */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof z.ZodError) return fromZodError(error);
  if (error instanceof PairingInputError)
    return new GatewayError("invalid_request", error.message, error.field, error.code);
  if (error instanceof StoreUnavailableError || error instanceof StoreDeadlineError) return storeUnavailable(error);
  return new GatewayError("internal", "internal error");
}

/** "unavailable", carrying the store error's own catalogue code when it has one (GH_ERR_STORE_DEADLINE, …). */
export function storeUnavailable(cause?: unknown): GatewayError {
  const ghCode = libraryCodeOf(cause);
  const code = ghCode !== undefined && ERROR_CODES[ghCode].wire === "unavailable" ? ghCode : "GH_ERR_UNAVAILABLE";
  return new GatewayError(
    "unavailable",
    "the store is temporarily unavailable; nothing was changed, try again shortly",
    undefined,
    code,
  );
}

/** The one mapping from an error to what HTTP bodies and WebSocket frames carry: `{ code, ghCode, message, field? }`. */
export function errorBody(error: GatewayError): ErrorBody {
  const body: ErrorBody = { code: error.code, ghCode: error.ghCode, message: error.message };
  return error.field === undefined ? body : { ...body, field: error.field };
}

/** The first zod issue as `field message`, e.g. `code must be a string (received number)`. */
export function fromZodError(error: z.ZodError, prefix = ""): GatewayError {
  const issue = error.issues[0];
  if (!issue) return new GatewayError("invalid_request", "invalid request");
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
  const field = path === "" ? "body" : path;
  return new GatewayError("invalid_request", `${field}: ${issue.message}`, field);
}

/** True for errors that mean "a store could not answer". */
export function isStoreFailure(error: unknown): boolean {
  return !(error instanceof GatewayError) && !(error instanceof PairingInputError) && !(error instanceof z.ZodError);
}
