import { randomInt } from "node:crypto";

/** 32 symbols without the look-alikes 0/O/1/I: 8 symbols give 40 bits. */
export const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const CODE_LENGTH = 8;
const VALID_CODE = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);
/** Longest raw input worth normalising; anything longer cannot be a code and is refused without work. */
const MAX_RAW_LENGTH = 64;

/** A fresh code from the CSPRNG, canonical form (8 symbols, no dash). */
export function generateRawCode(): string {
  let code = "";
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/**
 * Normalises user input (trim, upper-case, spaces and dashes removed) and returns the canonical code,
 * or null when the result is not exactly 8 alphabet symbols. Called before any store access.
 */
export function normalizeCode(input: unknown): string | null {
  if (typeof input !== "string" || input.length > MAX_RAW_LENGTH) return null;
  const canonical = input.trim().toUpperCase().replace(/[\s-]/g, "");
  return VALID_CODE.test(canonical) ? canonical : null;
}

/**
 * A code in any store's own format (the docs' example stores mint 8 hex digits), as people type it: trimmed,
 * upper-cased, spaces and dashes removed. For matching a typed code against a store's list, never for validating one.
 */
export function comparableCode(input: string): string {
  return input.trim().toUpperCase().replace(/[\s-]/g, "");
}

/**
 * What the gateway accepts as a code on every path (HTTP, WebSocket, CLI, `/pair`, buttons) whatever store is plugged in:
 * 4-64 letters and digits, with dashes or spaces between them. Codes are the store's (docs/protocols.md#code-bound), so a
 * store that mints its own format (8 hex digits, say) is held to nothing more; the store decides what its codes are.
 */
export const BOUNDED_CODE = /^[A-Za-z0-9][A-Za-z0-9 -]{2,62}[A-Za-z0-9]$/;

/** The trimmed input when it is within the generic code bound, else null. */
export function boundedCode(input: unknown): string | null {
  if (typeof input !== "string" || input.length > MAX_RAW_LENGTH) return null;
  const trimmed = input.trim();
  return BOUNDED_CODE.test(trimmed) ? trimmed : null;
}

/** `ABCDEFGH` -> `ABCD-EFGH`. */
export function formatCode(canonical: string): string {
  return `${canonical.slice(0, 4)}-${canonical.slice(4)}`;
}

/** What listPending shows for an invite: its code is a bearer secret. */
export const MASKED_CODE = "****-****";
