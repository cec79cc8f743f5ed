import type { EventEmitter } from "node:events";
import type { AgentSpec } from "../agents/schema.js";
import type { ConversationLimits } from "../conversation/memory.js";
import type { ApprovalOptions } from "../core/approvals/service.js";
import type { Agent, ChannelPlugin, GatewayContext, GatewayLogger, PolicyOptions } from "../core/context.js";
import type { SocketChannel } from "../core/socket-channel.js";
import type { DeviceProofMode } from "../pairing/device-proof.js";
import type { AuthProtocol, PairingProtocol, SessionBindingProtocol } from "../protocols/types.js";
import type { ApprovalStore } from "../stores/approvals.js";
import type { ConversationStore } from "../stores/conversations.js";
import type { LeaseStore } from "../stores/lease.js";
import type { SettingsStore } from "../stores/settings.js";
import type { PairingRules, SeenOnceStore } from "../stores/types.js";
import type { HttpServerOptions } from "./http-server.js";
import type { WebSocketOptions } from "./ws-options.js";

/** What `createBareGateway` (and `createGateway`) accept, their defaults, and the gateway they return. */

export const DEFAULT_STORE_URL = "sqlite:./.gatehouse/gatehouse.db";
export const DEFAULT_DATA_DIR = "./.gatehouse";
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8787;

export interface GatewayHttpOptions extends HttpServerOptions {
  /** Default 127.0.0.1: never exposed beyond this machine unless asked. */
  host?: string;
  /** Default 8787; 0 picks a free port (see `url` after start). */
  port?: number;
  /** Browser origins allowed besides the gateway's own address (e.g. where the console is served from). */
  allowedOrigins?: string[];
  /**
   * Also serve the API and WebSocket on this Unix socket file (created mode 0600), the owner-only door: requests on it
   * carry `via: "local-socket"`, which `localSocketAuth()` admits as the local owner. Off unless given.
   */
  localSocket?: string;
}

export interface GatewayOptions {
  auth?: AuthProtocol;
  pairingStore?: PairingProtocol;
  sessionBinding?: SessionBindingProtocol;
  /** Seen-once keys for webhook de-duplication; default: the opened stores' (required by webhook channels such as WhatsApp). */
  seenStore?: SeenOnceStore;
  /** Store URL used for whatever is not injected; default `sqlite:./.gatehouse/gatehouse.db`. */
  store?: string;
  /** Where the gateway secret (and the default SQLite file) live; default `./.gatehouse`. */
  dataDir?: string;
  /** The gateway secret (>= 32 bytes); default loaded or created in dataDir (or GATEHOUSE_SECRET). */
  secret?: Buffer;
  /**
   * A function, or an `agent:` section as in gatehouse.yaml (`{ type: "openai", baseUrl, model, apiKeyEnv, … }`),
   * validated here. Default: the echo agent.
   */
  agent?: Agent | AgentSpec;
  /**
   * Conversation memory for agents that use history (limits, idle TTL, how many messages may wait while the agent
   * answers), kept in the gateway's store; `store` overrides where (required when every store is injected).
   */
  conversation?: ConversationOptions;
  /** Default: unknownUserPolicy "pair", nobody allowlisted, no chat owners. */
  policy?: Partial<PolicyOptions>;
  channels?: ChannelPlugin[];
  /**
   * How long start() waits for the channels to connect (default 5 s). A channel that fails within it fails the start;
   * one still connecting past it is logged and shown degraded in /healthz while the gateway runs without it.
   */
  channelConnectGraceMs?: number;
  /**
   * The channel of token-less WebSocket clients (devices that connect with a `deviceId`): default the webchat channel
   * (`webchatChannel()` from `gatehouse/channels/webchat`); `false` serves token sockets only.
   */
  webchat?: SocketChannel | false;
  http?: GatewayHttpOptions;
  websocket?: WebSocketOptions;
  /**
   * Webchat devices: "required" admits only devices that prove a key (src/gateway/README.md "Device keys"); "optional"
   * (the default here) also lets legacy name-only devices in.
   */
  deviceProof?: DeviceProofMode;
  /** Where run-time settings live (webchat.deviceProof set by `gatehouse pairing require-proof`); default: the opened stores'. */
  settingsStore?: SettingsStore;
  /** Pairing rules for stores the gateway opens (and the invite lifetime it reports). */
  pairingRules?: Partial<PairingRules>;
  /** Agents' approval requests: timeouts and policy rules; `store` when the stores are injected (default: the opened store's). */
  approvals?: ApprovalOptions & { store?: ApprovalStore };
  /** Directory of the built web console, served at /console; default web/dist when it exists. */
  consoleDir?: string;
  /** Default: pino JSON lines on stderr at level info (see createLogger in gateway/logger.ts). */
  logger?: GatewayLogger;
  /**
   * Leases among the instances on one store: one owner per platform connection (Telegram long polling, the Discord
   * gateway) and this instance's heartbeat for `gatehouse status`. `store` default: the opened stores' leases;
   * `ttlMs` (default 15 s) is how soon another instance takes over from one that died.
   */
  leases?: { store?: LeaseStore; ttlMs?: number };
  /** The backend named in store metrics when the stores are injected (the CLI passes its store's); default "injected". */
  storeBackend?: string;
  now?: () => number;
}

export interface ConversationOptions extends Partial<ConversationLimits> {
  /** Messages of one session that may wait while the agent answers; default 3. */
  maxWaiting?: number;
  store?: ConversationStore;
}

export interface Gateway {
  start(): Promise<void>;
  /** Stops channels, closes sockets (1001), drains HTTP requests and closes the stores the gateway opened. */
  stop(): Promise<void>;
  /** `http://host:port` once started. */
  readonly url: string;
  readonly events: EventEmitter;
  /** The context channels get; available once started. */
  readonly context: GatewayContext;
}
