import { createAuthChain } from "../auth/chain.js";
import { jwtAuth } from "../auth/jwt.js";
import { loopbackAuth } from "../auth/loopback.js";
import type { AuthLogger } from "../auth/result.js";
import { tokenAuth } from "../auth/token.js";
import { trustedProxyAuth } from "../auth/trusted-proxy.js";
import type { AuthProtocol } from "../protocols/types.js";
import type { TokenStore } from "../stores/types.js";
import { ConfigError } from "./errors.js";
import type { AuthConfig } from "./schema.js";

/**
 * The auth chain described by the `auth:` section, in a fixed order: API tokens, JWT, trusted proxy, loopback.
 * Each backend runs through safeCheck (a throw denies and is logged). Every backend off is a config error, never
 * "auth silently off".
 */
export function authFromConfig(auth: AuthConfig, tokens: TokenStore | undefined, logger?: AuthLogger): AuthProtocol {
  const backends: AuthProtocol[] = [];
  try {
    if (auth.token) {
      if (!tokens) throw new ConfigError(["auth.token: this store keeps no API tokens; set auth.token: false and use another backend"]);
      backends.push(tokenAuth(tokens));
    }
    if (auth.jwt) {
      const { publicKey, ...jwt } = auth.jwt;
      backends.push(jwtAuth({ ...jwt, key: publicKey }));
    }
    if (auth.trustedProxy) backends.push(trustedProxyAuth(auth.trustedProxy as Parameters<typeof trustedProxyAuth>[0]));
    if (auth.loopback) backends.push(loopbackAuth());
  } catch (error) {
    if (error instanceof TypeError) throw new ConfigError([`auth.${error.message}`]);
    throw error;
  }
  if (backends.length === 0) throw new ConfigError(["auth: every backend is off; enable token, jwt, trustedProxy or loopback"]);
  return createAuthChain(backends, { logger });
}
