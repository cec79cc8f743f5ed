import type { IncomingMessage } from "node:http";
import type { NewRequestBudget } from "../core/admission.js";
import type { GatewayContext } from "../core/context.js";
import type { GatewayError } from "../core/errors.js";
import type { ConnectParams } from "../core/schemas.js";
import type { DeviceLink, DeviceSession, SocketChannel } from "../core/socket-channel.js";
import type { DeviceChallenge } from "../pairing/device-proof.js";
import type { Principal } from "../protocols/types.js";
import { fixedDevicePolicy, type DevicePolicy } from "./device-handshake.js";
import { CLOSE } from "./ws-close-codes.js";
import { type CredentialEnd, SocketCredential } from "./ws-credential.js";
import { admittedOrNot, DeviceEntry, type DeviceStanding, NO_CHALLENGE, type ProofOutcome } from "./ws-device-entry.js";

/** Who admits a socket that connects without a token, and what its pairing requests may cost: lent by the hub. */
export interface EntryHooks {
  /** Who admits token-less (device) connects: the webchat channel; none: only token sockets are served. */
  socketChannel?: SocketChannel;
  /** Pays for new webchat pairing requests of this client's network address (the store's atomic budget); none: unlimited. */
  requestBudget?: NewRequestBudget;
  /** Whether legacy (name-only) webchat devices may connect; default: optional. */
  devicePolicy?: DevicePolicy;
}

/** How a socket is closed: its close code, the error frame's code and its message. */
export interface Closing {
  close: number;
  code: GatewayError["code"];
  message: string;
}

/** Where a connect frame leads. */
export type ConnectStep =
  /** A token auth accepted: bind a session and say hello. */
  | { kind: "ready"; principal: Principal }
  /** A key device: send it this challenge and wait for its proof. */
  | { kind: "challenge"; challenge: DeviceChallenge }
  /** A name-only device the policy allows: hand it to its channel. */
  | { kind: "device"; deviceId: string }
  | ({ kind: "closed" } & Closing);

const closing = (close: number, code: GatewayError["code"], message: string): ConnectStep => ({
  kind: "closed",
  close,
  code,
  message,
});

/**
 * How one socket got in, and what it presents again before each request and on heartbeats: a token (or console
 * ticket) socket its credential (ws-credential.ts), a webchat device its entry (ws-device-entry.ts: challenge, proof,
 * admission by its channel). The socket (ws-connection.ts) keeps the frames, the state and the close; this decides.
 */
export class SocketEntry {
  private credential: SocketCredential | null = null;
  private device: DeviceEntry | null = null;
  private params: ConnectParams = {};
  /** Set for device (webchat) sockets: the device id the client presented (proven, for a key device). */
  deviceId: string | undefined;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly upgrade: IncomingMessage,
    private readonly hooks: EntryHooks,
    private readonly challengeTtlMs: number,
    /** Closes the socket when a request or a heartbeat finds it no longer let in. */
    private readonly out: (closing: Closing) => void,
  ) {}

  /** The session id the client asked to resume, if any (it is bound only if it is this principal's). */
  get requestedSessionId(): string | undefined {
    return this.params.sessionId;
  }

  /** The connect frame's params: a token goes to auth; a device id (or key) to the socket channel (webchat). */
  async connect(params: ConnectParams): Promise<ConnectStep> {
    this.params = params;
    if (params.token !== undefined) return this.presentToken();
    if (params.deviceId !== undefined || params.publicKey !== undefined) return this.startDevice();
    return closing(CLOSE.policy, "invalid_request", "params: send a token, or a deviceId for webchat");
  }

  /** A key device's answer: only a signature over this socket's challenge proves the device. */
  prove(frame: unknown): ProofOutcome {
    return this.device ? this.device.prove(frame, Date.now()) : NO_CHALLENGE;
  }

  /** Hands the device to its channel, which admits it and answers through `link` (the socket). */
  admitDevice(deviceId: string, link: DeviceLink): Promise<DeviceSession> {
    if (!this.device) return Promise.reject(new Error("no device connect to admit"));
    this.deviceId = deviceId;
    return this.device.admit(deviceId, this.params.name, link);
  }

  /**
   * Whether the socket may go on: before each request a device is re-admitted and a token presented again; on
   * heartbeats and resyncs (`recheck`) a name-only device also meets the key policy. When not, the socket is closed
   * (`out`) and this resolves false. Throws when the store cannot say.
   */
  stillIn(recheck = false): Promise<boolean> {
    const device = this.device;
    if (!device) return this.credentialStillValid();
    return recheck ? device.standing().then(this.onStanding) : device.stillAdmitted().then(this.onAdmitted);
  }

  /** Whether this socket's credential is the one that ended. */
  endedBy(ended: CredentialEnd): boolean {
    return this.credential?.endedBy(ended) ?? false;
  }

  /** The socket closed: its device's channel forgets it. */
  closed(): void {
    this.device?.session?.closed();
  }

  private async presentToken(): Promise<ConnectStep> {
    const credential = await SocketCredential.present(this.ctx, this.upgrade, this.params);
    if (!credential) return closing(CLOSE.unauthorized, "unauthenticated", "authentication failed");
    this.credential = credential;
    return { kind: "ready", principal: credential.principal };
  }

  /** A webchat device: a key device is sent a challenge; a name-only id goes on only while the policy allows it. */
  private async startDevice(): Promise<ConnectStep> {
    const channel = this.hooks.socketChannel;
    if (!channel)
      return closing(CLOSE.policy, "invalid_request", "params: send a token (this gateway runs no webchat channel)");
    const device = new DeviceEntry(channel, this.hooks.devicePolicy ?? fixedDevicePolicy(), this.hooks.requestBudget);
    this.device = device;
    const host = this.upgrade.headers.host ?? "";
    const start = await device.start(this.params, host, Date.now(), this.challengeTtlMs);
    if (start.kind === "refused") return closing(CLOSE.unauthorized, "unauthenticated", start.message);
    if (start.kind === "legacy") return { kind: "device", deviceId: start.deviceId };
    return { kind: "challenge", challenge: start.challenge };
  }

  private readonly onAdmitted = (admitted: boolean): boolean => this.onStanding(admittedOrNot(admitted));

  private readonly onStanding = (standing: DeviceStanding): boolean => {
    if (standing === "admitted") return true;
    if (standing === "keys-required")
      this.out({
        close: CLOSE.unauthorized,
        code: "unauthenticated",
        message: "this gateway now requires device keys: pair again with a key",
      });
    else this.out({ close: CLOSE.forbidden, code: "forbidden", message: "this device is no longer paired" });
    return false;
  };

  /**
   * A token socket presents its credential again (on every request and every heartbeat), so a deleted token or an
   * expired JWT closes the socket; a refusal, a throw or a slow backend all count as invalid (fail closed).
   */
  private async credentialStillValid(): Promise<boolean> {
    if (this.credential && (await this.credential.stillValid())) return true;
    this.out({ close: CLOSE.unauthorized, code: "unauthenticated", message: "credentials are no longer valid" });
    return false;
  }
}
