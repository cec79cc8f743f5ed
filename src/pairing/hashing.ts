import { createHmac, timingSafeEqual } from "node:crypto";

/** Keyed hash of a canonical code (HMAC-SHA256, hex). Invite codes are stored only as this. */
export function hashCode(key: Buffer, channelType: string, canonicalCode: string): string {
  return createHmac("sha256", key).update(channelType).update("\u0000").update(canonicalCode).digest("hex");
}

/**
 * Constant-time equality of two secrets of any length: both are HMACed first so the compared digests have a fixed
 * length; a length mismatch is simply `false`, never a throw.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer, key: Buffer = COMPARE_KEY): boolean {
  const da = createHmac("sha256", key).update(a).digest();
  const db = createHmac("sha256", key).update(b).digest();
  return timingSafeEqual(da, db);
}

const COMPARE_KEY = Buffer.from("gatehouse:compare");
