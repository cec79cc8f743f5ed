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
  /** The headers as they came on the wire (IncomingMessage.rawHeaders): a repeated header stays visible as repeated. */
  rawHeaders?: readonly string[];
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
    headers: withRepeats(input.headers, input.rawHeaders),
    remoteAddress: normalizeAddress(input.remoteAddress),
    via: isLocalSocket(input.socket) ? "local-socket" : "tcp",
    query,
  };
  if (input.connectParams) request.connectParams = input.connectParams;
  return request;
}

/**
 * Node joins a repeated header into one string (`x-user: mallory` + `x-user: owner` reads "mallory, owner") or keeps
 * only the first one (authorization, host, …). Every header that came more than once is given as the list of all its
 * values instead, so headerValue() sees the repeat and refuses it rather than reading a joined or chosen value.
 */
function withRepeats(headers: IncomingHttpHeaders, raw: readonly string[] | undefined): GatewayRequest["headers"] {
  const view: GatewayRequest["headers"] = { ...headers };
  if (raw === undefined) return view;
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const list = values.get(name);
    if (list) list.push(raw[i + 1]!);
    else values.set(name, [raw[i + 1]!]);
  }
  for (const [name, list] of values) if (list.length > 1) view[name] = list;
  return view;
}
