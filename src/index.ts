/**
 * gatehouse's front door: the protocols and their guards, createGateway, openStores, agents and errors. Backends,
 * channels, auth backends and store-author tools are subpath exports (see package.json "exports"):
 * `gatehouse/stores/<backend>`, `gatehouse/channels` and `gatehouse/channels/<channel>`, `gatehouse/auth`,
 * `gatehouse/pairing` (code helpers for store authors), `gatehouse/testing` (the conformance suites).
 */
export type * from "./protocols/types.js";
export {
  assertAuthProtocol,
  assertPairingProtocol,
  assertSessionBindingProtocol,
  isAuthProtocol,
  isPairingProtocol,
  isSessionBindingProtocol,
} from "./protocols/guards.js";

export { createGateway, DEFAULT_STORE_URL } from "./gatehouse.js";
export { createLogger, type LoggerOptions, type LogFormat, type LogLevel } from "./gateway/logger.js";
export type { Gateway, GatewayHttpOptions, GatewayOptions } from "./gateway/create-gateway.js";
export type { WebSocketOptions } from "./gateway/ws-hub.js";
export type {
  Agent,
  AgentContext,
  AgentMessage,
  ChannelPlugin,
  GatewayContext,
  GatewayEventName,
  GatewayLogger,
  PolicyOptions,
  UnknownUserPolicy,
} from "./core/context.js";

export { openStores, type OpenStoresOptions } from "./stores/open.js";
export { DEFAULT_PAIRING_RULES } from "./stores/types.js";
export type {
  AuditEvent,
  AuditEventType,
  AuditPage,
  AuditQuery,
  PairingRules,
  PairingStore,
  SessionBindingStore,
  Stores,
  TokenStore,
} from "./stores/types.js";

export {
  echoAgent,
  httpAgent,
  openaiAgent,
  type HttpAgentOptions,
  type OpenAIAgentOptions,
  type AgentSpec,
} from "./agents/index.js";

export * from "./errors.js";
