import type { Page } from "playwright-core";

export interface StoredDeviceKey {
  /** The private key's algorithm: "Ed25519" or "ECDSA". */
  algorithm: string;
  extractable: boolean;
  /** What exporting the private key as PKCS#8 gave: "exported", or the error's name. */
  exported: string;
  /** dk1. + base64url(SHA-256(SPKI)) of the stored public key: the id the gateway must know this browser by. */
  deviceId: string;
}

/** Reads the device key web/src/device-key.ts keeps in this page's IndexedDB (the page must be on the gateway's origin). */
export function storedDeviceKey(page: Page): Promise<StoredDeviceKey> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open("gatehouse");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const pair = await new Promise<CryptoKeyPair>((resolve, reject) => {
      const request = db.transaction("device-keys").objectStore("device-keys").get("webchat");
      request.onsuccess = () => resolve(request.result as CryptoKeyPair);
      request.onerror = () => reject(request.error);
    });
    db.close();
    const exported = await crypto.subtle.exportKey("pkcs8", pair.privateKey).then(
      () => "exported",
      (error: Error) => error.name,
    );
    const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
    const base64 = btoa(String.fromCharCode(...digest));
    const deviceId = `dk1.${base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
    return { algorithm: pair.privateKey.algorithm.name, extractable: pair.privateKey.extractable, exported, deviceId };
  });
}
