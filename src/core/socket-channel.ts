import type { Principal } from "../protocols/types.js";
import type { NewRequestBudget } from "./admission.js";
import type { ChannelPlugin } from "./context.js";

/**
 * The seam between the gateway's WebSocket transport and the channel whose users arrive on it (webchat,
 * `src/channels/webchat`). The transport owns the socket: frames, size and rate limits, heartbeats, token sockets,
 * session ids and close codes. The channel owns the person behind a token-less `connect`: admission, the pairing code,
 * the owner's decision and whether they are still let in. Neither side imports the other; both import this file.
 */

/** A token-less `connect` as the transport hands it over. */
export interface SocketArrival {
  /** The device id the client presented (already checked against the connect frame's schema). */
  deviceId: string;
  /** The display name the client gave, if any. */
  name?: string;
  /** Pays for new pairing requests of the client's network address (kept in the store); absent: unlimited. */
  requestBudget?: NewRequestBudget;
}

/** Why a device is refused, as the transport closes its socket: 1008 policy, 4403 forbidden, 1013 try again later. */
export type DeviceRefusal = "policy" | "forbidden" | "unavailable";

/** What the channel may do to one device's socket; every call is a no-op once the socket is closed. */
export interface DeviceLink {
  /** Lets the device in with this principal: the transport binds a session (the one the client asked to resume, if it is this principal's) and says hello. */
  letIn(principal: Principal): Promise<void>;
  /** The owner approved the waiting device: `pairing.approved`, then hello with a fresh session id (a privilege change). */
  approve(principal: Principal): Promise<void>;
  /** The device waits for an owner: the `pairing` frame with its code, and a deadline for the wait. */
  awaitApproval(code: string, expiresAt: number | undefined): void;
  /** Whether the device still waits for an owner's decision. */
  readonly isAwaitingApproval: boolean;
  /** Whether the device was let in and has not been closed since. */
  readonly isReady: boolean;
  /** Closes the socket with an error frame carrying `message`. */
  refuse(reason: DeviceRefusal, message: string): void;
}

/** One admitted (or waiting) device, as the transport holds it. */
export interface DeviceSession {
  readonly principal: Principal;
  /** Before each request and on heartbeats: false once the device is no longer admitted; throws when the store cannot say. */
  stillAdmitted(): Promise<boolean>;
  /** The socket closed: the channel forgets it. */
  closed(): void;
}

/** A channel whose users arrive on the gateway's WebSocket: started and stopped with the gateway, like every channel. */
export interface SocketChannel extends ChannelPlugin {
  /** Admits a token-less connect, tells the device through `link`, and keeps the link for the owner's decision. */
  connect(arrival: SocketArrival, link: DeviceLink): Promise<DeviceSession>;
}
