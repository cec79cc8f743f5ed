import { webchatChannel } from "./channels/webchat/index.js";
import { createBareGateway, type Gateway, type GatewayOptions } from "./gateway/create-gateway.js";

export { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_STORE_URL } from "./gateway/create-gateway.js";
export type { Gateway, GatewayHttpOptions, GatewayOptions } from "./gateway/create-gateway.js";

/**
 * Builds a gateway with its default channel: webchat (devices on `/ws`, `src/channels/webchat`) runs unless
 * `options.webchat` is `false` or another socket channel. This is the one place above both the gateway (the HTTP and
 * WebSocket transport, which may not import channels) and the channels that wires them together by default; the
 * package root, `src/gateway/index.ts` and the CLI all hand out this function.
 */
export function createGateway(options: GatewayOptions = {}): Gateway {
  return createBareGateway(options.webchat === undefined ? { ...options, webchat: webchatChannel() } : options);
}
