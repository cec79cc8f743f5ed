import type { IncomingHttpHeaders } from "node:http";
import type { GatewayRequest } from "../protocols/types.js";
import { normalizeAddress as canonicalAddress } from "../auth/address.js";

/** One canonical spelling per address (auth's normalizeAddress: `::ffff:1.2.3.4`, `::ffff:102:304` -> `1.2.3.4`); missing -> "". */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return "";
  return canonicalAddress(address);
}

/** Connections accepted by the gateway's owner-only Unix socket; only the gateway's own listener adds to it. */
const localSockets = new WeakSet<object>();

export function markLocalSocket(socket: object): void {
  localSockets.add(socket);
}

export function isLocalSocket(socket: object | undefined): boolean {
  return socket !== undefined && localSockets.has(socket);
}

/** Our transport-neutral view of an HTTP request or a WebSocket upgrade, so auth backends never see the framework. */
export function gatewayRequest(input: {
  transport: GatewayRequest["transport"];
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
  /** The connection it came on: decides `via` (the owner-only local socket or TCP). */
  socket?: object;
  connectParams?: Record<string, unknown>;
}): GatewayRequest {
  const parsed = new URL(input.url, "http://gateway.invalid");
  const query: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) if (!(key in query)) query[key] = value;
  const request: GatewayRequest = {
    transport: input.transport,
    method: input.method,
    url: input.url,
    headers: { ...input.headers },
    remoteAddress: normalizeAddress(input.remoteAddress),
    via: isLocalSocket(input.socket) ? "local-socket" : "tcp",
    query,
  };
  if (input.connectParams) request.connectParams = input.connectParams;
  return request;
}
