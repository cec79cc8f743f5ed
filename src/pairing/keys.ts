import { randomBytes } from "node:crypto";
import { deriveKey } from "./secret.js";

/** The code-hashing key for a store: derived from the gateway secret, or random for a throwaway store. */
export function codeHashKey(secret: Buffer | undefined): Buffer {
  return deriveKey(secret ?? randomBytes(32), "code-hash");
}
