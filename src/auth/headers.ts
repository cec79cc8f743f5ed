import type { GatewayRequest } from "../protocols/types.js";

/** One header's value (case-insensitive name); a repeated header is refused as ambiguous (undefined). */
export function headerValue(request: GatewayRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  let found: string | undefined;
  let count = 0;
  for (const [key, value] of Object.entries(request.headers ?? {})) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      found = v;
      count += 1;
    }
  }
  return count === 1 ? found : undefined;
}

/** Whether any header with this name is present, with whatever value. */
export function hasHeader(request: GatewayRequest, name: string): boolean {
  const wanted = name.toLowerCase();
  return Object.entries(request.headers ?? {}).some(
    ([key, value]) => key.toLowerCase() === wanted && value !== undefined,
  );
}

/** The credential of `Authorization: Bearer <credential>`, or undefined when absent or of another scheme. */
export function bearerCredential(request: GatewayRequest): string | undefined {
  const header = headerValue(request, "authorization");
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/**
 * The credential a client presented: the Bearer header, else (WebSocket) the connect frame's `token`.
 * Never the query string: secrets do not belong in URLs.
 */
export function presentedCredential(request: GatewayRequest): string | undefined {
  const fromHeader = bearerCredential(request);
  if (fromHeader !== undefined) return fromHeader;
  const fromConnect = request.connectParams?.token;
  return typeof fromConnect === "string" ? fromConnect : undefined;
}
