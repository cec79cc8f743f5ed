import type { GatewayError } from "../core/errors.js";
import type { DeviceRefusal } from "../core/socket-channel.js";

/** Close codes: standard ones where they fit, 44xx mirroring HTTP statuses otherwise. */
export const CLOSE = {
  goingAway: 1001,
  policy: 1008,
  tryAgainLater: 1013,
  unauthorized: 4401,
  forbidden: 4403,
  timeout: 4408,
} as const;

/** How each refusal of a device closes its socket. */
export const REFUSALS: Record<DeviceRefusal, { close: number; code: GatewayError["code"] }> = {
  policy: { close: CLOSE.policy, code: "forbidden" },
  forbidden: { close: CLOSE.forbidden, code: "forbidden" },
  unavailable: { close: CLOSE.tryAgainLater, code: "unavailable" },
};
