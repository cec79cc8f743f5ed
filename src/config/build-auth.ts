import { createAuthChain } from "../auth/chain.js";
import { jwtAuth } from "../auth/jwt.js";
import { localSocketAuth } from "../auth/local-socket.js";
import type { AuthLogger } from "../auth/result.js";
import { tokenAuth } from "../auth/token.js";
import { trustedProxyAuth } from "../auth/trusted-proxy.js";
import type { AuthProtocol } from "../protocols/types.js";
import type { TokenStore } from "../stores/types.js";
import { ConfigError } from "./errors.js";
import { join } from "node:path";
import type { AuthConfig, GatehouseConfig } from "./schema.js";

/**
 * The auth chain described by the `auth:` section, in a fixed order: API tokens, JWT, trusted proxy, local socket.
 * Each backend runs through safeCheck (a throw denies and is logged). Every backend off is a config error, never
 * "auth silently off".
 */
export function authFromConfig(auth: AuthConfig, tokens: TokenStore | undefined, logger?: AuthLogger): AuthProtocol {
  const backends: AuthProtocol[] = [];
  try {
    if (auth.token) {
      if (!tokens)
        throw new ConfigError([
          "auth.token: this store keeps no API tokens; set auth.token: false and use another backend",
        ]);
      backends.push(tokenAuth(tokens));
    }
    if (auth.jwt) {
      const { publicKey, ...jwt } = auth.jwt;
      backends.push(jwtAuth({ ...jwt, key: publicKey }));
    }
    if (auth.trustedProxy) backends.push(trustedProxyAuth(auth.trustedProxy as Parameters<typeof trustedProxyAuth>[0]));
    if (auth.localSocket || auth.loopback) backends.push(localSocketAuth());
  } catch (error) {
    if (error instanceof TypeError) throw new ConfigError([`auth.${error.message}`]);
    throw error;
  }
  if (backends.length === 0)
    throw new ConfigError(["auth: every backend is off; enable token, jwt, trustedProxy or localSocket"]);
  return createAuthChain(backends, { logger });
}

/** The owner-only Unix socket of `auth.localSocket` (or its deprecated name `auth.loopback`), or undefined when off. */
export function localSocketPath(config: Pick<GatehouseConfig, "auth" | "dataDir">): string | undefined {
  return config.auth.localSocket || config.auth.loopback ? join(config.dataDir, "gatehouse.sock") : undefined;
}

/** Who the configured auth trusts and why, in plain words: printed by `start` and `doctor`. */
export function describeTrust(config: Pick<GatehouseConfig, "auth" | "dataDir">): string[] {
  const { auth } = config;
  const lines: string[] = [];
  if (auth.token) lines.push("API tokens kept in the store (Authorization: Bearer …; the console signs in with one)");
  if (auth.jwt)
    lines.push(`JWTs from issuer ${auth.jwt.issuer}, checked against its ${auth.jwt.jwksUrl ? "JWKS" : "public key"}`);
  if (auth.trustedProxy) {
    lines.push(
      `the identity header ${auth.trustedProxy.userHeader} only from the proxies ${auth.trustedProxy.proxies.join(", ")}`,
    );
  }
  const socket = localSocketPath(config);
  lines.push(
    socket
      ? `local owner: whoever can open the Unix socket ${socket} (mode 0600: the user running the gateway, and root)`
      : "no local owner socket (auth.localSocket is off)",
  );
  if (auth.loopback)
    lines.push("auth.loopback is deprecated: it now opens the local owner socket; loopback TCP grants nothing");
  lines.push(
    "a loopback TCP connection is no credential: a reverse proxy on this host forwards remote clients over loopback",
  );
  return lines;
}
