import { createHash, createHmac } from "node:crypto";
import { boundedCode, CODE_ALPHABET, CODE_LENGTH, comparableCode, normalizeCode } from "./codes.js";
import { safeEqual } from "./hashing.js";
import { deriveKey } from "./secret.js";

/**
 * Signed Approve/Deny button tokens.
 *
 * A token is 28 bytes, base64url-encoded to 38 characters, so it fits Telegram's 64-byte `callback_data` whatever the
 * ids involved (they are never carried, only bound by the MAC; details stay server-side, keyed by the code):
 *
 *   [0]      version (high nibble) | action (low nibble: 1/2 approve/deny a pairing, 3/4 an agent's action, 5/6 a
 *            webchat device's pairing, whose card is sent on another channel: webchat has no owner inbox)
 *   [1..2]   channel tag: first two bytes of SHA-256(channelType), for routing and early rejection
 *   [3..7]   version 1: the 8-symbol pairing code (or an approval request's reference), 5 bits per symbol; version 2, for a code in a store's own format
 *            (docs/protocols.md#code-bound): a 5-byte keyed digest of it, which the router resolves among the live requests
 *   [8..11]  expiry, seconds since the epoch (uint32, big-endian)
 *   [12..27] HMAC-SHA256(button key, bytes 0..11 ‖ channelType ‖ recipient), truncated to 16 bytes
 *
 * The recipient is the owner the card was sent to, so a token only verifies when that owner presses it.
 * Single use is the store's job: approve/deny of a code that was already decided returns false.
 */
export type ButtonAction = "approve" | "deny";
/**
 * What a button decides: a pairing request on the card's own channel (keyed by its code), an agent's approval request
 * (keyed by its ref), or a webchat device's pairing request (keyed by its code), carried on another channel's card.
 */
export type ButtonSubject = "pairing" | "action" | "device";

export const BUTTON_TOKEN_BYTES = 28;
export const BUTTON_TOKEN_LENGTH = 38;
const VERSION = 1;
const FOREIGN_CODE_VERSION = 2;
const MAC_BYTES = 16;
const BODY_BYTES = BUTTON_TOKEN_BYTES - MAC_BYTES;
const ACTION_CODES: Record<ButtonSubject, Record<ButtonAction, number>> = {
  pairing: { approve: 1, deny: 2 },
  action: { approve: 3, deny: 4 },
  device: { approve: 5, deny: 6 },
};
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{38}$/;

export interface ButtonClaims {
  action: ButtonAction;
  channelType: string;
  /** The pairing code: gatehouse's 8 symbols (any spelling), or a store's own code within the generic bound. */
  code: string;
  /** The owner id the card was sent to; only that owner's press verifies. */
  recipient: string;
  /** Epoch milliseconds; rounded down to whole seconds in the token. */
  expiresAt: number;
  /** Default "pairing". */
  subject?: ButtonSubject;
}

export type ButtonVerification =
  | { ok: true; action: ButtonAction; subject: ButtonSubject; code: string; expiresAt: number }
  /** A token for a code in a store's own format: find the live request whose `buttonCodeRef` is `codeRef`. */
  | { ok: true; action: ButtonAction; subject: ButtonSubject; code: null; codeRef: string; expiresAt: number }
  | { ok: false; reason: "invalid" | "expired" };

/** The button-signing key, derived from the persistent gateway secret (so tokens survive restarts). */
export function buttonKey(secret: Buffer): Buffer {
  return deriveKey(secret, "button-signing");
}

export function signButtonToken(key: Buffer, claims: ButtonClaims): string {
  const code = normalizeCode(claims.code);
  const foreign = code === null ? boundedCode(claims.code) : null;
  if (code === null && foreign === null)
    throw new TypeError("code must be 4-64 letters and digits (dashes or spaces between)");
  const actionCode = ACTION_CODES[claims.subject ?? "pairing"]?.[claims.action];
  if (actionCode === undefined)
    throw new TypeError('action must be "approve" or "deny", subject "pairing", "action" or "device"');
  const seconds = Math.floor(claims.expiresAt / 1000);
  if (!Number.isInteger(seconds) || seconds <= 0 || seconds > 0xffff_ffff) {
    throw new TypeError("expiresAt must be a time in epoch milliseconds before 2106");
  }
  const body = Buffer.alloc(BODY_BYTES);
  body[0] = ((code === null ? FOREIGN_CODE_VERSION : VERSION) << 4) | actionCode;
  channelTag(claims.channelType).copy(body, 1);
  (code === null ? codeDigest(key, claims.channelType, foreign ?? "") : packCode(code)).copy(body, 3);
  body.writeUInt32BE(seconds, 8);
  return Buffer.concat([body, mac(key, body, claims.channelType, claims.recipient)]).toString("base64url");
}

/**
 * Checks a pressed token for the channel it arrived on and the user who pressed it. Forged, altered, foreign-channel and
 * other-recipient tokens are "invalid"; an authentic token past its expiry is "expired". Never throws on bad input.
 */
export function verifyButtonToken(
  key: Buffer,
  token: unknown,
  context: { channelType: string; pressedBy: string; now: number },
): ButtonVerification {
  if (typeof token !== "string" || !TOKEN_SHAPE.test(token)) return { ok: false, reason: "invalid" };
  const raw = Buffer.from(token, "base64url");
  // Only the canonical spelling: the last character's unused low bits must be zero, so one token has one string.
  if (raw.length !== BUTTON_TOKEN_BYTES || raw.toString("base64url") !== token) return { ok: false, reason: "invalid" };
  const body = raw.subarray(0, BODY_BYTES);
  const expected = mac(key, body, context.channelType, context.pressedBy);
  if (!safeEqual(expected, raw.subarray(BODY_BYTES))) return { ok: false, reason: "invalid" };
  const decoded = decodeAction(body[0] ?? 0);
  if (decoded === null) return { ok: false, reason: "invalid" };
  const expiresAt = body.readUInt32BE(8) * 1000;
  if (expiresAt <= context.now) return { ok: false, reason: "expired" };
  if ((body[0] ?? 0) >> 4 === FOREIGN_CODE_VERSION)
    return { ok: true, ...decoded, code: null, codeRef: body.subarray(3, 8).toString("hex"), expiresAt };
  return { ok: true, ...decoded, code: unpackCode(body.subarray(3, 8)), expiresAt };
}

/** The reference a version-2 token carries for `code` (a store's own format) on `channelType`. */
export function buttonCodeRef(key: Buffer, channelType: string, code: string): string {
  return codeDigest(key, channelType, code).toString("hex");
}

function codeDigest(key: Buffer, channelType: string, code: string): Buffer {
  return createHmac("sha256", key)
    .update("code\u0000")
    .update(channelType)
    .update("\u0000")
    .update(comparableCode(code))
    .digest()
    .subarray(0, 5);
}

/** The action a token claims, unverified: only for adapters that must label a press before the router verifies it. */
export function peekButtonAction(token: unknown): ButtonAction | null {
  if (typeof token !== "string" || !TOKEN_SHAPE.test(token)) return null;
  return decodeAction(Buffer.from(token, "base64url")[0] ?? 0)?.action ?? null;
}

function decodeAction(byte: number): { action: ButtonAction; subject: ButtonSubject } | null {
  if (byte >> 4 !== VERSION && byte >> 4 !== FOREIGN_CODE_VERSION) return null;
  const code = byte & 0x0f;
  for (const subject of ["pairing", "action", "device"] as const) {
    for (const action of ["approve", "deny"] as const)
      if (ACTION_CODES[subject][action] === code) return { action, subject };
  }
  return null;
}

function mac(key: Buffer, body: Buffer, channelType: string, recipient: string): Buffer {
  return createHmac("sha256", key)
    .update(body)
    .update("\u0000")
    .update(channelType)
    .update("\u0000")
    .update(recipient)
    .digest()
    .subarray(0, MAC_BYTES);
}

function channelTag(channelType: string): Buffer {
  return createHash("sha256").update(channelType).digest().subarray(0, 2);
}

function packCode(code: string): Buffer {
  let value = 0n;
  for (const symbol of code) value = (value << 5n) | BigInt(CODE_ALPHABET.indexOf(symbol));
  const out = Buffer.alloc(5);
  for (let i = 4; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

function unpackCode(bytes: Buffer): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let code = "";
  for (let i = 0; i < CODE_LENGTH; i++) {
    code = CODE_ALPHABET[Number(value & 31n)] + code;
    value >>= 5n;
  }
  return code;
}
