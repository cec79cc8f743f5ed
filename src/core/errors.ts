import { z } from "zod";
import { PairingInputError, StoreUnavailableError } from "../pairing/errors.js";
import { StoreDeadlineError } from "./deadline.js";

/** Stable error codes of the HTTP API and the WebSocket protocol. */
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
  | "agent_error"
  | "internal";

const HTTP_STATUS: Record<GatewayErrorCode, number> = {
  unauthenticated: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  invalid_json: 400,
  invalid_request: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  unknown_method: 400,
  rate_limited: 429,
  connect_required: 400,
  not_supported_by_store: 501,
  unavailable: 503,
  agent_error: 502,
  internal: 500,
};

/** An error whose code and message are safe to show to the client (never a code, token or secret). */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  get status(): number {
    return HTTP_STATUS[this.code];
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
  message: string;
  field?: string;
}

/** What a client sees for any thrown error: ours as they are, store failures as "unavailable", the rest as "internal". */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof z.ZodError) return fromZodError(error);
  if (error instanceof PairingInputError) return new GatewayError("invalid_request", error.message, error.field);
  if (error instanceof StoreUnavailableError || error instanceof StoreDeadlineError) {
    return new GatewayError("unavailable", "the store is temporarily unavailable; nothing was changed, try again shortly");
  }
  return new GatewayError("internal", "internal error");
}

export function errorBody(error: GatewayError): ErrorBody {
  return error.field === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, field: error.field };
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
