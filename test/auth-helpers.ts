import type { GatewayRequest } from "../src/protocols/types.js";

/** A GatewayRequest as the gateway would build it, with overrides. */
export function gatewayRequest(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    transport: "http",
    method: "GET",
    url: "/api/pairing/pending",
    headers: {},
    remoteAddress: "127.0.0.1",
    query: {},
    ...overrides,
  };
}

/** A logger that keeps every line, so tests can grep for leaked secrets. */
export function captureLogger(): { lines: string[]; warn(message: string, fields?: Record<string, unknown>): void } {
  const lines: string[] = [];
  return { lines, warn: (message, fields) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`) };
}
