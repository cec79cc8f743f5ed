import { closeSync, openSync, readFileSync, writeSync, constants } from "node:fs";
import { randomBytes, hkdfSync } from "node:crypto";
import { join, resolve } from "node:path";
import { ensureWritableDir } from "./data-dir.js";

const MIN_SECRET_LENGTH = 32;
const PLACEHOLDERS = new Set([
  "undefined",
  "null",
  "changeme",
  "change-me",
  "secret",
  "password",
  "default",
  "example",
  "test",
]);

/** Throws when a secret or token is empty, short or a well-known placeholder. */
export function assertStrongSecret(value: string, what: string, minLength = MIN_SECRET_LENGTH): void {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw new Error(`${what} is empty`);
  if (PLACEHOLDERS.has(trimmed.toLowerCase())) throw new Error(`${what} is a placeholder value; set a real random one`);
  if (trimmed.length < minLength)
    throw new Error(`${what} is too short: at least ${minLength} characters are required`);
}

/** Where loadGatewaySecret(dataDir) takes the secret from, for messages: "GATEHOUSE_SECRET" or the file's path. */
export function describeSecretSource(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.GATEHOUSE_SECRET !== undefined ? "GATEHOUSE_SECRET" : `the secret file ${resolve(dataDir, "secret")}`;
}

/**
 * The gateway secret: `GATEHOUSE_SECRET` when set, else `<dataDir>/secret`, created once with mode 0600 by an
 * exclusive create so two processes starting together never diverge. An unreadable or empty file is an error,
 * never silently replaced.
 */
export function loadGatewaySecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.GATEHOUSE_SECRET;
  if (fromEnv !== undefined) {
    assertStrongSecret(fromEnv, "GATEHOUSE_SECRET");
    return Buffer.from(fromEnv.trim(), "utf8");
  }
  const path = join(ensureWritableDir(dataDir), "secret");
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, randomBytes(32).toString("base64url"));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return readSecretFile(path);
}

function readSecretFile(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new Error(`gateway secret file ${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  if (text.length === 0) {
    // Another process may be between its exclusive create and its write: look once more before failing.
    text = waitForContent(path);
  }
  if (text.length < MIN_SECRET_LENGTH) {
    throw new Error(`gateway secret file ${path} is empty or too short; restore it or delete it to create a new one`);
  }
  return Buffer.from(text, "utf8");
}

function waitForContent(path: string): string {
  const deadline = Date.now() + 500;
  let text = "";
  while (text.length === 0 && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    text = readFileSync(path, "utf8").trim();
  }
  return text;
}

/** Key purposes: one gateway secret, a separate derived key per use (HKDF with a label). */
export type KeyPurpose =
  | "code-hash"
  | "button-signing"
  | "cookie"
  | "session-token"
  | "store-fingerprint"
  | "console-session"
  | "console-ticket";

export function deriveKey(secret: Buffer, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), `gatehouse:${purpose}`, 32));
}

/**
 * What a store keeps to recognise the secret it was first opened with: 128 bits of an HKDF-derived key (label
 * `store-fingerprint`), hex. It reveals nothing usable about the secret or the other derived keys.
 */
export function secretFingerprint(secret: Buffer): string {
  return deriveKey(secret, "store-fingerprint").subarray(0, 16).toString("hex");
}
