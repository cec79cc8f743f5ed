import type { IncomingHttpHeaders } from "node:http";
import type { GatewayRequest } from "../protocols/types.js";
import { normalizeAddress as canonicalAddress } from "../auth/address.js";

/** One canonical spelling per address (auth's normalizeAddress: `::ffff:1.2.3.4`, `::ffff:102:304` -> `1.2.3.4`); missing -> "". */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return "";
  return canonicalAddress(address);
}

/** Our transport-neutral view of an HTTP request or a WebSocket upgrade, so auth backends never see the framework. */
export function gatewayRequest(input: {
  transport: GatewayRequest["transport"];
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
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
    query,
  };
  if (input.connectParams) request.connectParams = input.connectParams;
  return request;
}
