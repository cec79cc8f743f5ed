import { createPublicKey, verify, type KeyObject } from "node:crypto";

/** Interactions older or newer than this are refused (a captured request cannot be replayed later). */
export const DISCORD_REPLAY_WINDOW_SECONDS = 5 * 60;

export interface DiscordSignedRequest {
  /** `X-Signature-Ed25519`, hex. */
  signature: string | undefined;
  /** `X-Signature-Timestamp`, seconds since the epoch. */
  timestamp: string | undefined;
  /** The raw request body, exactly as received. */
  body: string | Buffer;
  now?: number;
}

export type DiscordVerification = { ok: true } | { ok: false; reason: "missing-headers" | "stale" | "bad-signature" };

/** The application's public key (hex, from the Developer Portal) as a node:crypto Ed25519 key. */
export function discordPublicKey(hex: string): KeyObject {
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new TypeError("discord publicKey must be 64 hex characters (the application's Ed25519 public key)");
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(hex, "hex").toString("base64url") },
    format: "jwk",
  });
}

/** Discord's interaction signature: Ed25519 over `timestamp + raw body`, verified with node:crypto. */
export function verifyDiscordSignature(publicKey: KeyObject, request: DiscordSignedRequest): DiscordVerification {
  const { signature, timestamp } = request;
  if (!signature || !timestamp || !/^[0-9a-fA-F]{128}$/.test(signature) || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: "missing-headers" };
  }
  const nowSeconds = Math.floor((request.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > DISCORD_REPLAY_WINDOW_SECONDS) return { ok: false, reason: "stale" };
  const message = Buffer.concat([
    Buffer.from(timestamp, "utf8"),
    Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, "utf8"),
  ]);
  try {
    return verify(null, message, publicKey, Buffer.from(signature, "hex"))
      ? { ok: true }
      : { ok: false, reason: "bad-signature" };
  } catch {
    return { ok: false, reason: "bad-signature" };
  }
}
