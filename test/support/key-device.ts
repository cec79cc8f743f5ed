/**
 * A webchat key device for tests, built on node:crypto exactly as the protocol docs describe (src/gateway/README.md
 * "Device keys"): Ed25519 or ECDSA P-256, id = dk1. + base64url(SHA-256(SPKI)), signature over
 * "gatehouse-device-v1\n<audience>\n<nonce>\n<expiresAt>". `tamper` lets a test sign something other than the challenge.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { TestSocket, type Frame } from "../gateway-helpers.js";

export interface KeyDevice {
  deviceId: string;
  publicKey: string;
  privateKey: KeyObject;
  kind: "ed25519" | "p256";
}

export interface Challenge {
  nonce: string;
  audience: string;
  expiresAt: number;
}

export function makeKeyDevice(kind: KeyDevice["kind"] = "ed25519"): KeyDevice {
  const pair = kind === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = pair.publicKey.export({ format: "der", type: "spki" });
  return {
    deviceId: `dk1.${createHash("sha256").update(spki).digest("base64url")}`,
    publicKey: spki.toString("base64url"),
    privateKey: pair.privateKey,
    kind,
  };
}

export function signChallenge(device: KeyDevice, challenge: Challenge): string {
  const message = Buffer.from(
    `gatehouse-device-v1\n${challenge.audience}\n${challenge.nonce}\n${challenge.expiresAt}`,
    "utf8",
  );
  const signature =
    device.kind === "ed25519"
      ? sign(null, message, device.privateKey)
      : sign("sha256", message, { key: device.privateKey, dsaEncoding: "ieee-p1363" });
  return signature.toString("base64url");
}

export interface KeyConnect {
  /** Changes what is signed (another nonce, audience or expiry). */
  tamper?: (challenge: Challenge) => Challenge;
  /** Waits this long after the challenge before answering. */
  delayMs?: number;
  name?: string;
  sessionId?: string;
}

/**
 * Opens a socket, connects as `device`, answers the challenge and resolves with the frame that follows: `pairing`,
 * `hello` or `error` (then the socket closes).
 */
export async function connectKeyDevice(
  wsUrl: string,
  device: KeyDevice,
  options: KeyConnect = {},
): Promise<{ socket: TestSocket; challenge: Frame; first: Frame }> {
  const socket = await TestSocket.open(wsUrl);
  const params: Record<string, string> = { deviceId: device.deviceId, publicKey: device.publicKey };
  if (options.name !== undefined) params.name = options.name;
  if (options.sessionId !== undefined) params.sessionId = options.sessionId;
  socket.send({ type: "connect", params });
  const challenge = await socket.nextOfType("challenge", 10_000);
  if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
  const signed = (options.tamper ?? ((c) => c))({
    nonce: challenge.nonce,
    audience: challenge.audience,
    expiresAt: challenge.expiresAt,
  });
  socket.send({ type: "proof", params: { signature: signChallenge(device, signed) } });
  const first = await socket.next((f) => f.type === "pairing" || f.type === "hello" || f.type === "error", 10_000);
  return { socket, challenge, first };
}
