/**
 * Which browser origins and Host headers the gateway accepts, against cross-site WebSocket hijacking, CSRF and DNS
 * rebinding. Requests without an Origin header (curl, the CLI, server-side clients) pass the origin check; a browser
 * always sends one. The default allowlist is the gateway's own address (and its loopback aliases when bound to loopback).
 */
export interface OriginPolicy {
  isOriginAllowed(origin: string | undefined): boolean;
  isHostAllowed(host: string | undefined): boolean;
}

const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

export function isLoopbackHost(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost" || host.startsWith("127.");
}

export function createOriginPolicy(options: {
  host: string;
  port: number;
  allowedOrigins: readonly string[];
}): OriginPolicy {
  const bracketed = options.host.includes(":") ? `[${options.host}]` : options.host;
  const ownHosts = new Set<string>([`${bracketed}:${options.port}`]);
  if (isLoopbackHost(options.host)) for (const alias of LOOPBACK_HOSTS) ownHosts.add(`${alias}:${options.port}`);
  const origins = new Set<string>();
  for (const host of ownHosts) origins.add(`http://${host}`);
  const extraHosts = new Set<string>();
  for (const raw of options.allowedOrigins) {
    const origin = canonicalOrigin(raw);
    if (origin === null) throw new TypeError(`http.allowedOrigins: "${raw}" is not an origin like https://example.com`);
    origins.add(origin);
    extraHosts.add(new URL(origin).host);
  }
  const wildcardBind = options.host === "0.0.0.0" || options.host === "::";
  return {
    isOriginAllowed(origin) {
      if (origin === undefined) return true;
      const canonical = canonicalOrigin(origin);
      return canonical !== null && origins.has(canonical);
    },
    isHostAllowed(host) {
      if (host === undefined || wildcardBind) return true;
      const lower = host.toLowerCase();
      return ownHosts.has(lower) || extraHosts.has(lower);
    },
  };
}

function canonicalOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.origin;
  } catch {
    return null;
  }
}
