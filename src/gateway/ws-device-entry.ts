import type { NewRequestBudget } from "../core/admission.js";
import { fromZodError, type GatewayError } from "../core/errors.js";
import { proofFrame, type ConnectParams } from "../core/schemas.js";
import type { DeviceLink, DeviceSession, SocketChannel } from "../core/socket-channel.js";
import type { DeviceChallenge, DeviceKey } from "../pairing/device-proof.js";
import {
  finishDeviceHandshake,
  startDeviceHandshake,
  type DevicePolicy,
  type DeviceStart,
} from "./device-handshake.js";
import { CLOSE } from "./ws-close-codes.js";

/** A device's proof answered: the proven device id, or how the socket is closed. */
export type ProofOutcome =
  | { ok: true; deviceId: string }
  | { ok: false; close: number; code: GatewayError["code"]; message: string };

/** A proof frame on a socket that has no challenge out (or has answered it already). */
export const NO_CHALLENGE: ProofOutcome = {
  ok: false,
  close: CLOSE.policy,
  code: "invalid_request",
  message: "no challenge to answer",
};

/** Whether a connected device may go on with a request: or why not. */
export type DeviceStanding = "admitted" | "keys-required" | "not-paired";

/** A re-admission's answer as a standing. */
export const admittedOrNot = (admitted: boolean): DeviceStanding => (admitted ? "admitted" : "not-paired");

/**
 * A webchat device's way in on one socket: a key device answers one challenge (a name-only device goes on while the
 * device policy allows it), then the socket channel admits the device and answers through the socket's DeviceLink.
 * The socket (ws-connection.ts) keeps the frames and the state; this keeps what the device proved and its session.
 */
export class DeviceEntry {
  /** A key device's challenge, until it is answered (once). */
  private proving: { challenge: DeviceChallenge; device: DeviceKey } | null = null;
  /** A name-only device (no key): re-checked against the device policy before each request. */
  private legacy = false;
  /** The device's session with its channel, once the channel has taken the connect. */
  session: DeviceSession | null = null;
  /**
   * The channel's connect while it is under way. The channel may let the device in before it returns (an approval
   * that arrives while it still looks the device up), so a first request can come before `session`: it waits for this.
   */
  private admitting: Promise<DeviceSession> | null = null;

  constructor(
    private readonly channel: SocketChannel,
    private readonly policy: DevicePolicy,
    private readonly requestBudget: NewRequestBudget | undefined,
  ) {}

  /** The connect frame: a challenge to send, a legacy device to hand on at once, or a refusal. */
  async start(params: ConnectParams, host: string, now: number, challengeTtlMs: number): Promise<DeviceStart> {
    const start = await startDeviceHandshake(params, host, this.policy, now, challengeTtlMs);
    if (start.kind === "legacy") this.legacy = true;
    if (start.kind === "challenge") this.proving = { challenge: start.challenge, device: start.device };
    return start;
  }

  /** A key device's answer: only a signature over this socket's challenge proves the device. */
  prove(frame: unknown, now: number): ProofOutcome {
    const pending = this.proving;
    this.proving = null;
    const parsed = proofFrame.safeParse(frame);
    if (!parsed.success)
      return { ok: false, close: CLOSE.policy, code: "invalid_request", message: fromZodError(parsed.error).message };
    if (!pending) return NO_CHALLENGE;
    const result = finishDeviceHandshake(pending, parsed.data.params.signature, now);
    if (!result.ok) return { ok: false, close: CLOSE.unauthorized, code: "unauthenticated", message: result.message };
    return { ok: true, deviceId: result.deviceId };
  }

  /** Hands the (proven or allowed legacy) device to its channel, which admits it and tells it through `link`. */
  async admit(deviceId: string, name: string | undefined, link: DeviceLink): Promise<DeviceSession> {
    const arrival = {
      deviceId,
      ...(name !== undefined ? { name } : {}),
      ...(this.requestBudget ? { requestBudget: this.requestBudget } : {}),
    };
    this.admitting = this.channel.connect(arrival, link);
    this.session = await this.admitting;
    return this.session;
  }

  /**
   * Before each request: the channel re-admits the device, so a revoke made anywhere stops it at once. Requests need
   * not read the key policy: turning keys on (`requireDeviceProof`) revokes every paired name-only device, which
   * re-admission sees at the next request. Throws when the store cannot say.
   */
  stillAdmitted(): Promise<boolean> {
    if (this.session) return this.session.stillAdmitted();
    return this.admitting ? this.admitting.then((session) => session.stillAdmitted()) : Promise.resolve(false);
  }

  /**
   * On heartbeats and resyncs: re-admission, and a name-only device is also stopped once the policy requires keys
   * (which bounds a revoke of name-only devices that failed part way). Throws when the store cannot say.
   */
  standing(): Promise<DeviceStanding> {
    if (this.session && this.legacy)
      return this.policy
        .mode()
        .then((mode) => (mode === "required" ? "keys-required" : this.stillAdmitted().then(admittedOrNot)));
    return this.stillAdmitted().then(admittedOrNot);
  }
}
