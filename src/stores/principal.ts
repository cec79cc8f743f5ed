import type { JsonValue, Principal } from "../protocols/types.js";
import { PairingInputError } from "../pairing/errors.js";
import { assertId } from "../pairing/validation.js";

const MAX_PRINCIPAL_BYTES = 16 * 1024;

function assertJson(value: unknown, path: string, seen: Set<object>): asserts value is JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new PairingInputError(path, "is not a finite number, so it is not JSON-serialisable");
    return;
  }
  if (typeof value !== "object")
    throw new PairingInputError(path, `is a ${typeof value}, which is not JSON-serialisable`);
  if (seen.has(value)) throw new PairingInputError(path, "is a circular reference, which is not JSON-serialisable");
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertJson(item, `${path}[${index}]`, seen));
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new PairingInputError(path, "is not a plain object, so it is not JSON-serialisable");
    }
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) assertJson(item, `${path}.${key}`, seen);
    }
  }
  seen.delete(value);
}

/** Validates a principal and returns its JSON text; throws a PairingInputError naming the field at fault. */
export function serializePrincipal(principal: unknown): string {
  if (principal === null || typeof principal !== "object" || Array.isArray(principal)) {
    throw new PairingInputError("principal", "must be an object with userId and role");
  }
  const record = principal as Record<string, unknown>;
  assertId(record.userId, "principal.userId");
  if (typeof record.role !== "string" || record.role.length === 0) {
    throw new PairingInputError("principal.role", "must be a non-empty string");
  }
  assertJson(principal, "principal", new Set());
  const text = JSON.stringify(principal);
  if (Buffer.byteLength(text) > MAX_PRINCIPAL_BYTES) {
    throw new PairingInputError("principal", `must serialise to at most ${MAX_PRINCIPAL_BYTES} bytes`);
  }
  return text;
}

export function parsePrincipal(text: string): Principal {
  return JSON.parse(text) as Principal;
}

export function assertSessionId(sessionId: unknown): asserts sessionId is string {
  assertId(sessionId, "sessionId");
}
