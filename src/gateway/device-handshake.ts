import {
  DeviceProofError,
  isKeyDeviceId,
  issueChallenge,
  readDeviceKey,
  verifyProof,
  type DeviceChallenge,
  type DeviceKey,
  type DeviceProofMode,
} from "../pairing/device-proof.js";
import { withDeadline } from "../core/deadline.js";
import { FreshRead } from "../core/fresh-read.js";
import { DEVICE_PROOF_SETTING, type SettingsStore } from "../stores/settings.js";

/** Whether name-only (legacy) webchat devices may still connect; asked on every webchat connect. */
export interface DevicePolicy {
  /** The mode in force now; throws when it cannot be read (the connect then fails closed). */
  mode(): Promise<DeviceProofMode>;
}

/** Config only: the mode given, `optional` when none is. */
export function fixedDevicePolicy(mode: DeviceProofMode = "optional"): DevicePolicy {
  return { mode: async () => mode };
}

/**
 * The configuration and the store together: `required` in the configuration is final; otherwise the store's setting
 * decides (`gatehouse pairing require-proof` writes "required" there, for every instance at once), `optional` when none
 * is stored. Read at every name-only connect and on the heartbeats of its socket (ws-device-entry.ts), under the store
 * deadline, by a read sent after it asked; the checks that come while one read is under way share the next (FreshRead),
 * so a burst of connects does not pay a store round trip each. A store that cannot say fails closed.
 */
export function storedDevicePolicy(
  configured: DeviceProofMode | undefined,
  settings: SettingsStore | undefined,
): DevicePolicy {
  if (configured === "required" || !settings) return fixedDevicePolicy(configured);
  const stored = new FreshRead(() => withDeadline("settings.get", () => settings.get(DEVICE_PROOF_SETTING)));
  return {
    // The caller's own deadline too: a check queued behind a read under way waits no longer than one read may take.
    mode: async () =>
      (await withDeadline("settings.get", () => stored.get())) === "required" ? "required" : "optional",
  };
}

/** What a webchat `connect` leads to: a challenge for a key device, a legacy name-only device, or a refusal. */
export type DeviceStart =
  | { kind: "challenge"; challenge: DeviceChallenge; device: DeviceKey }
  | { kind: "legacy"; deviceId: string }
  | { kind: "refused"; message: string };

export interface DeviceConnect {
  deviceId?: string;
  publicKey?: string;
}

/**
 * The first half of a webchat connect. A device that sends its public key gets a challenge for `host` (the upgrade's
 * Host header); a `dk1.` id without its key is refused (knowing a key device's id is not enough, in either mode); a
 * legacy id is accepted only while the policy says `optional`.
 */
export async function startDeviceHandshake(
  params: DeviceConnect,
  host: string,
  policy: DevicePolicy,
  now: number,
  ttlMs: number,
): Promise<DeviceStart> {
  if (params.publicKey !== undefined) {
    try {
      const device = readDeviceKey(params.publicKey, params.deviceId);
      return { kind: "challenge", device, challenge: issueChallenge(host, now, ttlMs) };
    } catch (error) {
      if (error instanceof DeviceProofError) return { kind: "refused", message: error.message };
      throw error;
    }
  }
  const deviceId = params.deviceId ?? "";
  if (isKeyDeviceId(deviceId)) {
    return {
      kind: "refused",
      message: "this device id belongs to a key: send publicKey with it and sign the challenge",
    };
  }
  if ((await policy.mode()) === "required") {
    return {
      kind: "refused",
      message:
        "this gateway requires device keys (webchat.deviceProof: required): connect with a publicKey and sign the challenge",
    };
  }
  return { kind: "legacy", deviceId };
}

/** The second half: the device's signature over the challenge this socket was issued (spent by this call). */
export function finishDeviceHandshake(
  pending: { challenge: DeviceChallenge; device: DeviceKey },
  signature: string,
  now: number,
): { ok: true; deviceId: string } | { ok: false; message: string } {
  try {
    verifyProof(pending.device, pending.challenge, signature, now);
    return { ok: true, deviceId: pending.device.deviceId };
  } catch (error) {
    if (error instanceof DeviceProofError) return { ok: false, message: `device proof refused: ${error.message}` };
    throw error;
  }
}
