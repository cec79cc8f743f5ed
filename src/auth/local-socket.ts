import type { AuthProtocol, AuthResult, GatewayRequest } from "../protocols/types.js";
import { hasHeader } from "./headers.js";
import { allow, deny } from "./result.js";

/** Headers that mean a proxy (or a client pretending to be one) is in between: local owner trust never applies. */
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

export const LOCAL_OWNER_ID = "local-owner";

export interface LocalSocketAuthOptions {
  userId?: string;
  role?: string;
}

/**
 * The local owner: a request that reached the gateway through its owner-only Unix socket (`auth.localSocket`, the file
 * `<dataDir>/gatehouse.sock`, mode 0600), so the file mode is the credential: only processes of the user running the
 * gateway (and root) can connect. The gateway sets `request.via`; nothing the client sends can. A TCP peer is never the
 * local owner, loopback or not: a reverse proxy on the same host forwards every remote client over loopback, often
 * without any forwarding header (nginx's default `proxy_pass`), so a loopback address proves nothing. A request on the
 * socket that carries forwarding or browser headers was relayed by a proxy or a page, and is refused too.
 */
export function localSocketAuth(options: LocalSocketAuthOptions = {}): AuthProtocol & { name: string } {
  const userId = options.userId ?? LOCAL_OWNER_ID;
  const role = options.role ?? "owner";
  return {
    name: "local-socket",
    check(request: GatewayRequest): AuthResult {
      if (request.via !== "local-socket") return deny("not on the local owner socket", "local-socket");
      if (FORWARDING_HEADERS.some((name) => hasHeader(request, name))) return deny("forwarded request", "local-socket");
      if (BROWSER_HEADERS.some((name) => hasHeader(request, name))) return deny("browser request", "local-socket");
      return allow(userId, role, { backend: "local-socket" });
    },
  };
}

/**
 * @deprecated Loopback TCP is no credential any more (see localSocketAuth): this is localSocketAuth under its old name,
 * so existing code fails closed over TCP instead of trusting whoever a same-host proxy forwards.
 */
export const loopbackAuth = localSocketAuth;
export type LoopbackAuthOptions = LocalSocketAuthOptions;
