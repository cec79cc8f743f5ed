import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from "node:crypto";

/**
 * Proof of possession for webchat devices (docs: src/gateway/README.md "Device keys"). A key device's id is
 * `dk1.` + base64url(SHA-256(its SPKI public key, DER)), so pairing a device id pairs the key behind it. On connect the
 * gateway issues a challenge for this socket; the device signs
 *
 *   gatehouse-device-v1 \n <audience> \n <nonce> \n <expiresAt>
 *
 * (UTF-8, no trailing newline) with Ed25519, or ECDSA P-256 with SHA-256 and an IEEE P1363 (r‖s, 64 byte) signature as
 * WebCrypto makes it. Ids without the prefix are legacy name-only devices.
 */
export const KEY_DEVICE_PREFIX = "dk1.";
export const PROOF_CONTEXT = "gatehouse-device-v1";
/** How long a challenge may be answered; default 60 s. */
export const DEFAULT_CHALLENGE_TTL_MS = 60_000;
const NONCE_BYTES = 32;
const MAX_SPKI_BYTES = 256;

export type DeviceProofMode = "required" | "optional";

/** A challenge issued to one socket: answered once, before `expiresAt`, for this audience. */
export interface DeviceChallenge {
  nonce: string;
  /** The gateway as the client addressed it: the WebSocket upgrade's Host header, lower-cased (e.g. `127.0.0.1:8787`). */
  audience: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Why a proof was refused, in words a client developer can act on (never secret). */
export class DeviceProofError extends Error {
  override readonly name = "DeviceProofError";
}

export function isKeyDeviceId(deviceId: string): boolean {
  return deviceId.startsWith(KEY_DEVICE_PREFIX);
}

/** The device id a public key (SPKI DER) stands for. */
export function deviceIdOf(spki: Buffer): string {
  return KEY_DEVICE_PREFIX + createHash("sha256").update(spki).digest("base64url");
}

/** The exact bytes a device signs for a challenge. */
export function proofMessage(challenge: DeviceChallenge): Buffer {
  return Buffer.from(`${PROOF_CONTEXT}\n${challenge.audience}\n${challenge.nonce}\n${challenge.expiresAt}`, "utf8");
}

/** A fresh challenge (256-bit nonce from randomBytes) for `audience`, valid for `ttlMs`. */
export function issueChallenge(audience: string, now: number, ttlMs = DEFAULT_CHALLENGE_TTL_MS): DeviceChallenge {
  return {
    nonce: randomBytes(NONCE_BYTES).toString("base64url"),
    audience: audience.toLowerCase(),
    expiresAt: now + ttlMs,
  };
}

/** A device's public key, checked: an Ed25519 or P-256 SPKI whose hash is the device id (when one was given). */
export interface DeviceKey {
  deviceId: string;
  key: KeyObject;
  algorithm: "Ed25519" | "ECDSA-P256";
}

/** Reads a base64url SPKI public key; throws DeviceProofError naming what is wrong. */
export function readDeviceKey(publicKey: string, claimedId?: string): DeviceKey {
  if (!/^[A-Za-z0-9_-]+$/.test(publicKey)) throw new DeviceProofError("publicKey: expected base64url (SPKI, DER)");
  const spki = Buffer.from(publicKey, "base64url");
  if (spki.length === 0 || spki.length > MAX_SPKI_BYTES)
    throw new DeviceProofError("publicKey: not an SPKI public key");
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: "der", type: "spki" });
  } catch {
    throw new DeviceProofError("publicKey: not an SPKI public key");
  }
  const algorithm = algorithmOf(key);
  if (!algorithm) throw new DeviceProofError("publicKey: must be an Ed25519 or ECDSA P-256 key");
  // Hash the key as Node re-encodes it, so two encodings of one key cannot make two device ids.
  const deviceId = deviceIdOf(key.export({ format: "der", type: "spki" }));
  if (claimedId !== undefined && claimedId !== deviceId)
    throw new DeviceProofError("deviceId: does not match publicKey (expected dk1. + base64url(SHA-256(SPKI)))");
  return { deviceId, key, algorithm };
}

function algorithmOf(key: KeyObject): DeviceKey["algorithm"] | null {
  if (key.asymmetricKeyType === "ed25519") return "Ed25519";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ECDSA-P256";
  return null;
}

/**
 * Checks a signature over `challenge` (the one this socket was issued; it is spent whatever the outcome). Throws
 * DeviceProofError when it is late, malformed or does not verify.
 */
export function verifyProof(device: DeviceKey, challenge: DeviceChallenge, signature: string, now: number): void {
  if (now > challenge.expiresAt) throw new DeviceProofError("the challenge expired; connect again");
  if (!/^[A-Za-z0-9_-]+$/.test(signature)) throw new DeviceProofError("signature: expected base64url");
  const bytes = Buffer.from(signature, "base64url");
  const message = proofMessage(challenge);
  let valid = false;
  try {
    valid =
      device.algorithm === "Ed25519"
        ? bytes.length === 64 && verify(null, message, device.key, bytes)
        : bytes.length === 64 && verify("sha256", message, { key: device.key, dsaEncoding: "ieee-p1363" }, bytes);
  } catch {
    valid = false;
  }
  if (!valid) throw new DeviceProofError("signature: does not verify for this challenge and key");
}
