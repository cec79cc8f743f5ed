import { createHmac } from "node:crypto";
import { safeEqual } from "../../pairing/hashing.js";

const HEADER_FORMAT = /^sha256=([0-9a-f]{64})$/;

/**
 * Checks Meta's `X-Hub-Signature-256: sha256=<hex>` header: the HMAC-SHA256 of the exact raw body with the app secret.
 * Compared in constant time (both sides HMAC'd again to fixed length first); a missing, repeated or malformed header is
 * false, never a throw.
 */
export function verifyHubSignature(rawBody: Buffer, header: string | string[] | undefined, appSecret: string): boolean {
  if (typeof header !== "string") return false;
  const match = HEADER_FORMAT.exec(header.trim().toLowerCase());
  if (!match) return false;
  const expected = createHmac("sha256", appSecret).update(rawBody).digest("hex");
  return safeEqual(expected, match[1]!);
}

/** The header value Meta would send for `rawBody` (for emulators and tests). */
export function hubSignature(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac("sha256", appSecret).update(rawBody).digest("hex")}`;
}
