import type { AuthProtocol, AuthResult, GatewayRequest } from "../protocols/types.js";
import { isLoopbackAddress } from "./address.js";
import { hasHeader, headerValue } from "./headers.js";
import { allow, deny } from "./result.js";

/** Headers that mean a proxy (or a client pretending to be one) is in between: loopback trust never applies. */
export const FORWARDING_HEADERS = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-server",
  "x-real-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "true-client-ip",
  "cf-connecting-ip",
  "fastly-client-ip",
  "via",
] as const;

/** Headers only browsers send: a web page is never the local owner, whatever machine it runs on (CSRF). */
const BROWSER_HEADERS = ["origin", "referer", "sec-fetch-site", "sec-fetch-mode"] as const;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export const LOCAL_OWNER_ID = "local-owner";

export interface LoopbackAuthOptions {
  userId?: string;
  role?: string;
}

/**
 * Local owner auth for the CLI and scripts on the gateway's own machine: the TCP peer is loopback (127.0.0.0/8, ::1,
 * ::ffff:127.0.0.1), no forwarding header is present, no browser header is present, and the Host header (when sent) is a
 * loopback name, so neither a reverse proxy, a web page nor a DNS-rebinding page gets in.
 */
export function loopbackAuth(options: LoopbackAuthOptions = {}): AuthProtocol & { name: string } {
  const userId = options.userId ?? LOCAL_OWNER_ID;
  const role = options.role ?? "owner";
  return {
    name: "loopback",
    check(request: GatewayRequest): AuthResult {
      if (!isLoopbackAddress(request.remoteAddress)) return deny("not a loopback peer", "loopback");
      if (FORWARDING_HEADERS.some((name) => hasHeader(request, name))) return deny("forwarded request", "loopback");
      if (BROWSER_HEADERS.some((name) => hasHeader(request, name))) return deny("browser request", "loopback");
      if (hasHeader(request, "host") && !isLoopbackHost(headerValue(request, "host"))) {
        return deny("non-loopback host header", "loopback");
      }
      return allow(userId, role, { backend: "loopback" });
    },
  };
}

function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const lower = host.trim().toLowerCase();
  const withoutPort = lower.startsWith("[") ? lower.slice(0, lower.indexOf("]") + 1) : lower.replace(/:\d+$/, "");
  return LOOPBACK_HOSTS.has(withoutPort);
}
