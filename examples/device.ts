/**
 * A webchat device that proves its key, as the browser client does (src/gateway/README.md "Device keys"): it keeps an
 * Ed25519 key pair in a file, connects to /ws with the public key, signs the gateway's challenge, prints the pairing
 * code the owner must approve, and waits until it is let in (or refused). Given a key file, it keeps its key there, so a
 * second run is the same, already paired device; without one, each run is a new device.
 *   npx tsx examples/device.ts [ws://127.0.0.1:8787/ws] [key file]
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import WebSocket from "ws";

const url = process.argv[2] ?? "ws://127.0.0.1:8787/ws";
const keyFile = process.argv[3];

/** The device's private key: read from `file`, or made once and written there (mode 0600); without a file, a new one. */
function loadKey(file: string | undefined): KeyObject {
  if (file === undefined) return generateKeyPairSync("ed25519").privateKey;
  if (existsSync(file)) return createPrivateKey(readFileSync(file));
  const { privateKey } = generateKeyPairSync("ed25519");
  writeFileSync(file, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  return privateKey;
}

const privateKey = loadKey(keyFile);
const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
// The device id is the key's fingerprint: "dk1." + base64url(SHA-256(SPKI DER)).
const deviceId = `dk1.${createHash("sha256").update(spki).digest("base64url")}`;

interface Frame {
  type: string;
  nonce?: string;
  audience?: string;
  expiresAt?: number;
  code?: string;
  error?: { message?: string };
}

const socket = new WebSocket(url);
socket.on("open", () => {
  console.log(`device ${deviceId}`);
  socket.send(JSON.stringify({ type: "connect", params: { deviceId, publicKey: spki.toString("base64url") } }));
});
socket.on("message", (data) => {
  const frame = JSON.parse(data.toString()) as Frame;
  if (frame.type === "challenge") {
    // Sign only for the gateway this socket was opened to, so a challenge relayed from another gateway is refused.
    if (frame.audience !== new URL(url).host.toLowerCase())
      throw new Error(`challenge for ${frame.audience}, not ${new URL(url).host}`);
    const message = `gatehouse-device-v1\n${frame.audience}\n${frame.nonce}\n${frame.expiresAt}`;
    const signature = sign(null, Buffer.from(message, "utf8"), privateKey).toString("base64url");
    socket.send(JSON.stringify({ type: "proof", params: { signature } }));
  }
  if (frame.type === "pairing") console.log(`pairing code: ${frame.code} (waiting for the owner)`);
  if (frame.type === "error") console.log(`refused: ${frame.error?.message}`);
  if (frame.type === "hello") {
    console.log("admitted");
    socket.close();
  }
});
socket.on("close", (code) => process.exit(code === 1000 || code === 1005 ? 0 : 1));
