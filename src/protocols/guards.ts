import type { AuthProtocol, PairingProtocol, SessionBindingProtocol } from "./types.js";

const AUTH_MEMBERS = ["check"] as const;
const PAIRING_MEMBERS = ["generateCode", "approve", "isPaired", "listPaired", "revoke", "listPending"] as const;
const SESSION_MEMBERS = ["bind", "lookup"] as const;

/** Names of the members of `value` that are missing or not functions (duck typing: no inheritance needed). */
export function missingMembers(value: unknown, members: readonly string[]): string[] {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return [...members];
  const record = value as Record<string, unknown>;
  return members.filter((name) => typeof record[name] !== "function");
}

export function isAuthProtocol(value: unknown): value is AuthProtocol {
  return missingMembers(value, AUTH_MEMBERS).length === 0;
}

export function isPairingProtocol(value: unknown): value is PairingProtocol {
  return missingMembers(value, PAIRING_MEMBERS).length === 0;
}

export function isSessionBindingProtocol(value: unknown): value is SessionBindingProtocol {
  return missingMembers(value, SESSION_MEMBERS).length === 0;
}

function assertMembers(label: string, value: unknown, members: readonly string[]): void {
  const missing = missingMembers(value, members);
  if (missing.length > 0) throw new TypeError(`${label} is missing: ${[...missing].sort().join(", ")}`);
}

/** Throws one TypeError naming every missing or non-function member, e.g. `pairingStore is missing: listPending, revoke`. */
export function assertAuthProtocol(value: unknown, label = "auth"): asserts value is AuthProtocol {
  assertMembers(label, value, AUTH_MEMBERS);
}

export function assertPairingProtocol(value: unknown, label = "pairingStore"): asserts value is PairingProtocol {
  assertMembers(label, value, PAIRING_MEMBERS);
}

export function assertSessionBindingProtocol(
  value: unknown,
  label = "sessionBinding",
): asserts value is SessionBindingProtocol {
  assertMembers(label, value, SESSION_MEMBERS);
}
