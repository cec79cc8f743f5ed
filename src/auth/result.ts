import type { AuthProtocol, AuthResult, GatewayRequest } from "../protocols/types.js";
import { presentedCredential } from "./headers.js";

/** Where auth backends report problems; matches the gateway logger, so it can be passed straight in. */
export interface AuthLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** A refusal with a short, secret-free reason for logs and metadata. */
export function deny(reason: string, backend?: string): AuthResult {
  return { success: false, metadata: backend ? { backend, reason } : { reason } };
}

export function allow(userId: string, role: string, metadata: Record<string, unknown>): AuthResult {
  return { success: true, userId, role, metadata };
}

/**
 * Runs one backend's check and fails closed: a throw, a rejected promise or a malformed result (no userId or role on
 * a success) counts as `success: false`. Only the error's class name and message are logged, never the request.
 */
export async function safeCheck(
  backend: AuthProtocol,
  request: GatewayRequest,
  logger?: AuthLogger,
  name = "auth",
): Promise<AuthResult> {
  let result: AuthResult;
  try {
    result = await backend.check(request);
  } catch (error) {
    logger?.warn("auth backend failed; request denied", {
      backend: name,
      error: redact(describeError(error), request),
    });
    return deny("backend error", name);
  }
  if (!isWellFormedSuccess(result)) {
    if (result !== null && typeof result === "object" && result.success === false) {
      return { success: false, metadata: isRecord(result.metadata) ? result.metadata : {} };
    }
    if (result?.success === true) {
      logger?.warn("auth backend returned success without userId and role; request denied", { backend: name });
    }
    return deny("malformed result", name);
  }
  return {
    success: true,
    userId: result.userId,
    role: result.role,
    metadata: isRecord(result.metadata) ? result.metadata : {},
  };
}

function isWellFormedSuccess(result: unknown): result is AuthResult & { userId: string; role: string } {
  if (!isRecord(result) || result.success !== true) return false;
  return (
    typeof result.userId === "string" && result.userId !== "" && typeof result.role === "string" && result.role !== ""
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Error class and message only; messages of our own backends never carry secrets. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error;
}

/** API tokens and JWTs look like these; a backend's error message must not carry one into the logs. */
const SECRET_SHAPES = [/gh_[A-Za-z0-9_-]{8,}/g, /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g];

/** Removes the credential the client presented (and anything token-shaped) from a log message. */
function redact(message: string, request: GatewayRequest): string {
  let credential: string | undefined;
  try {
    credential = presentedCredential(request);
  } catch {
    credential = undefined;
  }
  let out = credential && credential.length >= 4 ? message.split(credential).join("[redacted]") : message;
  for (const shape of SECRET_SHAPES) out = out.replace(shape, "[redacted]");
  return out;
}
