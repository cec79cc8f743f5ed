/**
 * This browser's webchat device key (src/gateway/README.md "Device keys"): a WebCrypto key pair, Ed25519 where the
 * browser has it, else ECDSA P-256, made non-extractable (the page can sign with it, never read it) and kept in
 * IndexedDB, so a reload is the same device. The device id is dk1. + base64url(SHA-256(SPKI)). Clearing the site's
 * storage deletes the key: the browser is then a new device that pairs again.
 */

const DB_NAME = "gatehouse";
const STORE = "device-keys";
const RECORD = "webchat";
const CONTEXT = "gatehouse-device-v1";

export interface DeviceKey {
  deviceId: string;
  /** SPKI DER, base64url: sent as `publicKey` in connect. */
  publicKey: string;
  sign(message: string): Promise<string>;
}

export interface Challenge {
  nonce: string;
  audience: string;
  expiresAt: number;
}

/** Whether this page can hold a device key (WebCrypto needs a secure context: HTTPS, or http on loopback). */
export function deviceKeysAvailable(): boolean {
  return typeof crypto !== "undefined" && crypto.subtle !== undefined && typeof indexedDB !== "undefined";
}

/** The device key of this browser profile and site, made and stored on first use. */
export async function loadDeviceKey(): Promise<DeviceKey> {
  const db = await openDb();
  try {
    const stored = await read(db);
    if (stored) return await describe(stored);
    const made = await generate();
    // Another tab may have stored its key first: then that one is this browser's key.
    const kept = await write(db, made).then(
      () => made,
      async () => (await read(db)) ?? Promise.reject(new Error("the device key could not be stored")),
    );
    return await describe(kept);
  } finally {
    db.close();
  }
}

/** The signature a challenge asks for, over `gatehouse-device-v1\n<audience>\n<nonce>\n<expiresAt>`. */
export function signChallenge(key: DeviceKey, challenge: Challenge): Promise<string> {
  return key.sign(`${CONTEXT}\n${challenge.audience}\n${challenge.nonce}\n${challenge.expiresAt}`);
}

async function generate(): Promise<CryptoKeyPair> {
  try {
    return (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
  } catch {
    return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  }
}

async function describe(pair: CryptoKeyPair): Promise<DeviceKey> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
  const algorithm =
    pair.privateKey.algorithm.name === "Ed25519" ? { name: "Ed25519" } : { name: "ECDSA", hash: "SHA-256" };
  return {
    deviceId: `dk1.${base64url(digest)}`,
    publicKey: base64url(spki),
    async sign(message) {
      const signature = await crypto.subtle.sign(algorithm, pair.privateKey, new TextEncoder().encode(message));
      return base64url(new Uint8Array(signature));
    },
  };
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB could not be opened"));
  });
}

function read(db: IDBDatabase): Promise<CryptoKeyPair | undefined> {
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE, "readonly").objectStore(STORE).get(RECORD);
    request.onsuccess = () => resolve(request.result as CryptoKeyPair | undefined);
    request.onerror = () => reject(request.error ?? new Error("the device key could not be read"));
  });
}

function write(db: IDBDatabase, pair: CryptoKeyPair): Promise<void> {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, "readwrite");
    // Only when absent: two tabs making a key at once keep the first one (the second reads it back).
    transaction.objectStore(STORE).add(pair, RECORD);
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error("the device key could not be stored"));
  });
}
