import { createHmac } from "node:crypto";
import { safeEqual } from "../../pairing/hashing.js";

/** Slack's replay window: a request whose timestamp is more than five minutes from now (either way) is refused. */
export const SLACK_REPLAY_WINDOW_SECONDS = 5 * 60;

export interface SlackSignedRequest {
  signingSecret: string;
  /** `X-Slack-Request-Timestamp`, seconds since the epoch. */
  timestamp: string | undefined;
  /** `X-Slack-Signature`, `v0=<hex HMAC-SHA256>`. */
  signature: string | undefined;
  /** The raw request body, exactly as received. */
  body: string | Buffer;
  now?: number;
}

export type SlackVerification = { ok: true } | { ok: false; reason: "missing-headers" | "stale" | "bad-signature" };

/**
 * Slack's v0 request signature: HMAC-SHA256(signing secret, `v0:<timestamp>:<raw body>`), compared in constant time,
 * with the five-minute window enforced in both directions (a timestamp from the future is no fresher than a stale one).
 */
export function verifySlackSignature(request: SlackSignedRequest): SlackVerification {
  const { timestamp, signature } = request;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp) || !/^v0=[0-9a-f]{64}$/.test(signature)) {
    return { ok: false, reason: "missing-headers" };
  }
  const nowSeconds = Math.floor((request.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > SLACK_REPLAY_WINDOW_SECONDS) return { ok: false, reason: "stale" };
  const expected = `v0=${createHmac("sha256", request.signingSecret).update(`v0:${timestamp}:`).update(request.body).digest("hex")}`;
  return safeEqual(expected, signature) ? { ok: true } : { ok: false, reason: "bad-signature" };
}
