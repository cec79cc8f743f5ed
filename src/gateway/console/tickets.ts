import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { deriveKey } from "../../pairing/secret.js";

export const TICKET_PREFIX = "ghws_";
/** `ghws_<session ref>.<expiry, base 36>.<nonce>.<HMAC-SHA256>`: nothing in it is a secret but the signature. */
const TICKET_FORMAT = /^ghws_([0-9a-f]{64})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export interface TicketClaims {
  /** The console session's handle. */
  ref: string;
  expiresAt: number;
  /** What makes it single-use: the store's seen-once key. */
  nonce: string;
}

/**
 * Console WebSocket tickets that any instance sharing the gateway secret can check, with no ticket table: the session's
 * handle and the expiry signed with a key derived from the secret (HKDF label "console-ticket").
 */
export class TicketSigner {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    this.key = deriveKey(secret, "console-ticket");
  }

  sign(ref: string, expiresAt: number): string {
    const body = `${ref}.${expiresAt.toString(36)}.${randomBytes(16).toString("base64url")}`;
    return `${TICKET_PREFIX}${body}.${this.mac(body).toString("base64url")}`;
  }

  /** The claims of a well-formed ticket with a valid signature, else null (expiry and single use are the caller's). */
  verify(ticket: string): TicketClaims | null {
    const match = TICKET_FORMAT.exec(ticket);
    if (!match) return null;
    const [, ref, expiry, nonce, signature] = match as unknown as [string, string, string, string, string];
    const given = Buffer.from(signature, "base64url");
    const expected = this.mac(`${ref}.${expiry}.${nonce}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return { ref, expiresAt: parseInt(expiry, 36), nonce };
  }

  private mac(body: string): Buffer {
    return createHmac("sha256", this.key).update(body, "utf8").digest();
  }
}

/** Whether a presented credential looks like a console WebSocket ticket (so it is never sent to the token backend). */
export function isTicketShaped(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(TICKET_PREFIX);
}
