import type { GatewayRequest } from "../../protocols/types.js";
import { headerValue } from "../../auth/headers.js";
import { safeEqual } from "../../pairing/hashing.js";
import type { OriginPolicy } from "../origin-policy.js";

/** The header the console page echoes its per-session CSRF value in; a cross-site form or img can never set it. */
export const CSRF_HEADER = "x-gatehouse-csrf";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Why a cookie-authenticated request must be refused, or null. Every request needs an allowed Host (DNS rebinding) and,
 * when a browser says where it comes from, an allowed Origin and a same-origin Sec-Fetch-Site. A state-changing request
 * additionally needs an Origin (browsers always send one on POST/DELETE) and the session's CSRF value in the header.
 */
export function csrfProblem(request: GatewayRequest, expectedCsrf: string | null, policy: OriginPolicy): string | null {
  if (!policy.isHostAllowed(headerValue(request, "host"))) return "host not allowed";
  const origin = headerValue(request, "origin");
  if (origin !== undefined && !policy.isOriginAllowed(origin)) return "origin not allowed";
  const site = headerValue(request, "sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") return "cross-site request";
  if (SAFE_METHODS.has(request.method.toUpperCase())) return null;
  if (origin === undefined) return "origin header missing";
  if (expectedCsrf === null) return null;
  const presented = headerValue(request, CSRF_HEADER);
  if (presented === undefined || !safeEqual(presented, expectedCsrf)) return "csrf header missing or wrong";
  return null;
}
