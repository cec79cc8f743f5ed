import type { AuthProtocol, AuthResult, GatewayRequest } from "../protocols/types.js";
import { idProblem } from "../pairing/validation.js";
import { AddressList } from "./address.js";
import { headerValue } from "./headers.js";
import { allow, deny } from "./result.js";
import { roleProblem } from "./token.js";

export type TrustedProxyOptions = {
  /** Addresses or CIDR ranges of the reverse proxies whose identity headers are believed. */
  proxies: string[];
  /** The header the proxy puts the authenticated user in, e.g. `x-auth-request-user`. */
  userHeader: string;
} & ({ roleHeader: string; role?: undefined } | { role: string; roleHeader?: undefined });

const HEADER_NAME = /^[a-z0-9-]{1,64}$/;

/**
 * Identity from a reverse proxy (oauth2-proxy, Authelia, …): the user header is honoured only when the TCP peer is one
 * of the listed proxies; from anyone else the request is denied, whatever it carries. The headers are read as they came
 * on the wire: a user or role header sent twice, or one holding a comma-joined list, is refused, never joined.
 */
export function trustedProxyAuth(options: TrustedProxyOptions): AuthProtocol & { name: string } {
  const proxies = new AddressList(options?.proxies, "trustedProxy.proxies");
  if (options.proxies.length === 0) throw new TypeError("trustedProxy.proxies must list at least one proxy address");
  const userHeader = headerName(options.userHeader, "trustedProxy.userHeader");
  const roleHeader =
    options.roleHeader === undefined ? undefined : headerName(options.roleHeader, "trustedProxy.roleHeader");
  if ((roleHeader === undefined) === (options.role === undefined)) {
    throw new TypeError("trustedProxy needs exactly one of role or roleHeader");
  }
  if (options.role !== undefined) {
    const problem = roleProblem(options.role);
    if (problem) throw new TypeError(`trustedProxy.role ${problem}`);
  }
  return {
    name: "trusted-proxy",
    check(request: GatewayRequest): AuthResult {
      if (!proxies.has(request.remoteAddress)) return deny("peer is not a trusted proxy", "trusted-proxy");
      // headerValue refuses a header sent twice; a comma is how HTTP joins repeats, so a joined value is refused too.
      const userId = headerValue(request, userHeader)?.trim();
      if (userId === undefined || userId.includes(",") || idProblem(userId) !== null) {
        return deny("missing, repeated or invalid user header", "trusted-proxy");
      }
      const role = roleHeader === undefined ? options.role : headerValue(request, roleHeader)?.trim();
      if (role === undefined || roleProblem(role) !== null)
        return deny("missing, repeated or invalid role header", "trusted-proxy");
      return allow(userId, role, { backend: "trusted-proxy" });
    },
  };
}

function headerName(value: unknown, field: string): string {
  if (typeof value !== "string" || !HEADER_NAME.test(value.toLowerCase())) {
    throw new TypeError(`${field} must be an HTTP header name`);
  }
  return value.toLowerCase();
}
