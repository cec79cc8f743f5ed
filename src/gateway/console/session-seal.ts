import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { deriveKey } from "../../pairing/secret.js";

/** What a console session record keeps sealed: the owner's credential and the session's CSRF value. */
export interface SealedSecrets {
  token: string;
  csrf: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals a console session's secrets for the store with AES-256-GCM under a key derived from the gateway secret (HKDF
 * label "console-session"), with the record's key as associated data: whoever reads the store sees no token, and a
 * sealed value moved to another record does not open. Every instance sharing the secret can open what another sealed.
 */
export class SessionSeal {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    this.key = deriveKey(secret, "console-session");
  }

  seal(ref: string, secrets: SealedSecrets): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(ref, "utf8"));
    const body = Buffer.concat([cipher.update(JSON.stringify(secrets), "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
  }

  /** The secrets, or null when the value was not sealed for this record with this secret. */
  open(ref: string, sealed: string): SealedSecrets | null {
    const raw = Buffer.from(sealed, "base64url");
    if (raw.length <= IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(ref, "utf8"));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        "utf8",
      );
      const parsed = JSON.parse(text) as Partial<SealedSecrets>;
      return typeof parsed.token === "string" && typeof parsed.csrf === "string"
        ? { token: parsed.token, csrf: parsed.csrf }
        : null;
    } catch {
      return null;
    }
  }
}
