import { EventEmitter } from "node:events";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { echoAgent } from "../agents/echo.js";
import { agentFromSpec } from "../agents/from-config.js";
import { ConversationMemory, resolveConversationLimits, type ConversationLimits } from "../conversation/memory.js";
import { SessionTurns } from "../conversation/turns.js";
import type { ConversationStore } from "../stores/conversations.js";
import { MemoryConversationStore } from "../stores/memory/conversations.js";
import type { AgentSpec } from "../agents/schema.js";
import { tokenAuth } from "../auth/token.js";
import { assertAuthProtocol, assertPairingProtocol, assertSessionBindingProtocol } from "../protocols/guards.js";
import type { AuthProtocol, PairingProtocol, SessionBindingProtocol } from "../protocols/types.js";
import { describeSecretSource, loadGatewaySecret } from "../pairing/secret.js";
import { MemoryBudgetStore } from "../stores/memory/budgets.js";
import { openStores } from "../stores/open.js";
import type { PairingRules, SeenOnceStore, Stores } from "../stores/types.js";
import { DEFAULT_PAIRING_RULES } from "../stores/types.js";
import { findConsoleDir } from "./console-static.js";
import { ApprovalService, type ApprovalOptions } from "../core/approvals/service.js";
import type { ApprovalStore } from "../stores/approvals.js";
import { createConsole } from "./console/index.js";
import type { Agent, ChannelPlugin, GatewayContext, GatewayLogger, PolicyOptions } from "../core/context.js";
import { registerChannelRoutes } from "./channel-routes.js";
import { createHttpServer, type HttpServerOptions } from "./http-server.js";
import { randomBytes } from "node:crypto";
import type { LeaseKeeper } from "../core/lease-keeper.js";
import { GatewayLeases } from "../core/leases.js";
import { GATEHOUSE_VERSION } from "../core/version.js";
import type { LeaseStore } from "../stores/lease.js";
import { startHeartbeat } from "./heartbeat.js";
import type { SocketChannel } from "../core/socket-channel.js";
import { chatOwnerCheck } from "../core/admission.js";
import { closeLocalSocket, listenOnLocalSocket } from "./local-socket.js";
import { createLogger, isPinoGatewayLogger } from "./logger.js";
import { scopedLogger, inRequestScope, newRequestId } from "./log-scope.js";
import { channelHealth } from "./health.js";
import { PrometheusMetrics } from "./metrics/prometheus.js";
import { timedStore } from "./metrics/timed-store.js";
import { createOriginPolicy, type OriginPolicy } from "./origin-policy.js";
import { bridgeStoreEvents } from "./store-events.js";
import { consoleStores, followAnnouncements } from "./console/store-wiring.js";
import { WebSocketHub, type WebSocketOptions } from "./ws-hub.js";
import { storedDevicePolicy } from "./device-handshake.js";
import type { SettingsStore } from "../stores/settings.js";
import type { DeviceProofMode } from "../pairing/device-proof.js";

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

const POLICIES = new Set(["deny", "allow", "pair"]);

function resolvePolicy(policy: Partial<PolicyOptions> = {}): PolicyOptions {
  const resolved: PolicyOptions = {
    unknownUserPolicy: policy.unknownUserPolicy ?? "pair",
    allowedUsers: policy.allowedUsers ?? [],
    ownerUserIds: policy.ownerUserIds ?? [],
  };
  if (!POLICIES.has(resolved.unknownUserPolicy)) {
    throw new TypeError(
      `policy.unknownUserPolicy must be "deny", "allow" or "pair" (got ${JSON.stringify(resolved.unknownUserPolicy)})`,
    );
  }
  for (const key of ["allowedUsers", "ownerUserIds"] as const) {
    const list: unknown = resolved[key];
    if (!Array.isArray(list) || list.some((entry) => typeof entry !== "string" || entry === "")) {
      throw new TypeError(`policy.${key} must be an array of non-empty strings`);
    }
  }
  return { ...resolved, allowedUsers: [...resolved.allowedUsers], ownerUserIds: [...resolved.ownerUserIds] };
}

function resolveHttp(
  http: GatewayHttpOptions = {},
): Required<Pick<GatewayHttpOptions, "host" | "port" | "allowedOrigins">> & GatewayHttpOptions {
  const host = http.host ?? DEFAULT_HOST;
  const port = http.port ?? DEFAULT_PORT;
  if (typeof host !== "string" || host === "") throw new TypeError("http.host must be a non-empty string");
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new TypeError("http.port must be an integer from 0 to 65535");
  const allowedOrigins = http.allowedOrigins ?? [];
  if (!Array.isArray(allowedOrigins) || allowedOrigins.some((o) => typeof o !== "string")) {
    throw new TypeError("http.allowedOrigins must be an array of origin strings");
  }
  if (http.localSocket !== undefined && (typeof http.localSocket !== "string" || http.localSocket === "")) {
    throw new TypeError("http.localSocket must be the path of a Unix socket file");
  }
  // Validates every origin now, so a typo fails at construction rather than at the first request.
  createOriginPolicy({ host, port, allowedOrigins });
  return { ...http, host, port, allowedOrigins };
}

function agentOption(agent: Agent | AgentSpec | undefined): Agent {
  if (agent === undefined) return echoAgent;
  if (typeof agent === "function") return agent;
  if (agent === null || typeof agent !== "object")
    throw new TypeError("agent must be a function (message, context) => reply or an agent section");
  return agentFromSpec(agent);
}

/** The store's conversations (or the one given); an agent that uses history with neither keeps them in this process. */
function conversationMemory(
  store: ConversationStore | undefined,
  limits: ConversationLimits,
  agent: Agent,
  logger: GatewayLogger,
): ConversationMemory | undefined {
  if (store) return new ConversationMemory(store, limits);
  if (agent.usesHistory !== true) return undefined;
  logger.warn("no conversation store: conversations are kept in this process only (pass conversation.store)", {});
  return new ConversationMemory(new MemoryConversationStore(), limits);
}

const DENY_ALL: OriginPolicy = { isOriginAllowed: () => false, isHostAllowed: () => false };

/**
 * Builds a gateway: HTTP admin API and /healthz (fastify), WebSocket protocol at /ws, channels, all sharing one context.
 * Injected auth and stores are checked against their protocols at once (one TypeError naming every missing member);
 * whatever is not injected is opened from `store` at start(). This layer cannot name a channel, so it runs webchat
 * only when given one (`options.webchat`); `createGateway` (src/gatehouse.ts) gives it the webchat channel by default.
 */
export function createBareGateway(options: GatewayOptions = {}): Gateway {
  if (options.auth !== undefined) assertAuthProtocol(options.auth, "auth");
  if (options.pairingStore !== undefined) assertPairingProtocol(options.pairingStore, "pairingStore");
  if (options.sessionBinding !== undefined) assertSessionBindingProtocol(options.sessionBinding, "sessionBinding");
  const agent = agentOption(options.agent);
  const { store: conversationStore, maxWaiting, ...conversationLimits } = options.conversation ?? {};
  const turns = new SessionTurns(maxWaiting);
  // Checked now, so a bad limit fails at construction rather than at start.
  const limits = resolveConversationLimits(conversationLimits);
  if (options.secret !== undefined && (!Buffer.isBuffer(options.secret) || options.secret.length < 32)) {
    throw new TypeError("secret must be a Buffer of at least 32 bytes");
  }
  const channels = options.channels ?? [];
  channels.forEach((channel, index) => {
    if (
      !channel ||
      typeof channel.start !== "function" ||
      typeof channel.stop !== "function" ||
      typeof channel.channelType !== "string"
    ) {
      throw new TypeError(`channels[${index}] must have channelType, start() and stop()`);
    }
  });
  const socketChannel = options.webchat || undefined;
  if (
    socketChannel !== undefined &&
    (typeof socketChannel.connect !== "function" || typeof socketChannel.start !== "function")
  ) {
    throw new TypeError("webchat must be a socket channel (webchatChannel()) or false");
  }
  const policy = resolvePolicy(options.policy);
  const http = resolveHttp(options.http);
  const baseLogger = options.logger ?? createLogger();
  // Lines written while handling an HTTP request or a WebSocket connection carry its requestId.
  const logger = scopedLogger(baseLogger);
  let hub: WebSocketHub | undefined;
  // This gateway's own registry: two gateways in one process count apart.
  const metrics = new PrometheusMetrics({
    sockets: () => hub?.size ?? 0,
    channels: () => channelHealth(started).statuses,
  });
  const events = new EventEmitter();
  events.setMaxListeners(100);

  let context: GatewayContext | undefined;
  let stores: Stores | undefined;
  let app: FastifyInstance | undefined;
  let localServer: Server | undefined;
  let unsubscribe: () => void = () => {};
  let originPolicy: OriginPolicy = DENY_ALL;
  let url: string | undefined;
  const started: ChannelPlugin[] = [];
  let socketChannelStarted = false;
  let approvals: ApprovalService | undefined;
  let heartbeat: LeaseKeeper | undefined;
  const leaseTtlMs = options.leases?.ttlMs;
  if (leaseTtlMs !== undefined && !(Number.isFinite(leaseTtlMs) && leaseTtlMs >= 1_000 && leaseTtlMs <= 3_600_000)) {
    throw new TypeError(`leases.ttlMs must be from 1000 to 3600000 milliseconds (got ${String(leaseTtlMs)})`);
  }
  let state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";

  async function teardown(): Promise<void> {
    // The heartbeat goes first: `gatehouse status` stops listing an instance that is stopping.
    await heartbeat?.stop();
    heartbeat = undefined;
    for (const channel of started.splice(0).reverse()) {
      await channel
        .stop()
        .catch((error: unknown) =>
          logger.error("channel failed to stop", { channelType: channel.channelType, error: String(error) }),
        );
    }
    await hub?.close();
    if (socketChannel && socketChannelStarted) {
      socketChannelStarted = false;
      await socketChannel
        .stop()
        .catch((error: unknown) =>
          logger.error("channel failed to stop", { channelType: socketChannel.channelType, error: String(error) }),
        );
    }
    if (localServer) await closeLocalSocket(localServer);
    localServer = undefined;
    await app?.close();
    unsubscribe();
    approvals?.stop();
    approvals = undefined;
    await stores?.close().catch((error: unknown) => logger.error("closing stores failed", { error: String(error) }));
    hub = undefined;
    app = undefined;
    stores = undefined;
  }

  async function start(): Promise<void> {
    if (state !== "new") throw new Error(`gateway cannot start: it is ${state}`);
    state = "starting";
    try {
      const secret = options.secret ?? loadGatewaySecret(options.dataDir ?? DEFAULT_DATA_DIR);
      const injectedAll = options.auth && options.pairingStore && options.sessionBinding;
      if (!injectedAll) {
        const storeUrl = options.store ?? DEFAULT_STORE_URL;
        // openStores hands a memory: store its options as pairing rules, so only rules, secret and clock go there.
        const isMemory = storeUrl.trim().toLowerCase().startsWith("memory:");
        stores = await openStores(storeUrl, {
          secret,
          secretSource: options.secret
            ? "the secret given to createGateway"
            : describeSecretSource(options.dataDir ?? DEFAULT_DATA_DIR),
          ...(options.now ? { now: options.now } : {}),
          ...(isMemory ? {} : { dataDir: options.dataDir ?? DEFAULT_DATA_DIR }),
          ...options.pairingRules,
        });
      }
      const consoleDir = findConsoleDir(options.consoleDir);
      // The owner console: its cookie sessions (HTTP, CSRF-checked) and WebSocket tickets are accepted besides the auth.
      const channelTypes = [
        ...new Set([...channels, ...(socketChannel ? [socketChannel] : [])].map((channel) => channel.channelType)),
      ];
      const web = createConsole({
        auth: options.auth ?? defaultAuth(stores),
        secret,
        logger,
        originPolicy: () => originPolicy,
        staticDir: consoleDir,
        channelTypes: () => channelTypes,
        ...consoleStores(options.sessionBinding ?? stores?.sessions, options.seenStore ?? stores?.seen, stores),
      });
      const auth = web.auth;
      // Every store call the gateway makes is timed here, whatever the backend (or the injected object).
      const observe = metrics.storeObserver(options.storeBackend ?? stores?.backend ?? "injected");
      const time = <T extends object>(store: T, name: string): T => timedStore(store, name, observe);
      const timeIf = <T extends object>(store: T | undefined, name: string): T | undefined =>
        store === undefined ? undefined : time(store, name);
      const ctx: GatewayContext = {
        auth,
        pairing: time(options.pairingStore ?? (stores as Stores).pairing, "pairing"),
        sessions: time(options.sessionBinding ?? (stores as Stores).sessions, "sessions"),
        agent,
        conversations: conversationMemory(
          timeIf(conversationStore ?? stores?.conversations, "conversations"),
          limits,
          agent,
          logger,
        ),
        turns,
        policy,
        events,
        secret,
        logger,
        budgets: time(stores?.budgets ?? new MemoryBudgetStore(options.now), "budgets"),
        isOwner: (channelType, userId) => chatOwnerCheck(ctx)(channelType, userId),
        metrics,
      };
      const approvalStore = timeIf(options.approvals?.store ?? stores?.approvals, "approvals");
      if (approvalStore) {
        approvals = new ApprovalService(
          approvalStore,
          { events, logger, now: options.now ?? Date.now },
          options.approvals,
        );
        ctx.approvals = approvals;
        await approvals.start();
      }
      if (stores?.announcements) ctx.announcements = stores.announcements;
      const seen = timeIf(options.seenStore ?? stores?.seen, "seen");
      if (seen) ctx.seen = seen;
      const leaseStore = options.leases?.store ?? stores?.leases;
      if (leaseStore) {
        ctx.leases = new GatewayLeases({
          store: leaseStore,
          instanceId: randomBytes(6).toString("hex"),
          ...(leaseTtlMs !== undefined ? { ttlMs: leaseTtlMs } : {}),
          logger: () => logger,
        });
      }
      context = ctx;
      const unbridge = bridgeStoreEvents(ctx.pairing, events, logger);
      const uncount = metrics.countPairingEvents(events);
      unsubscribe = () => {
        uncount();
        unbridge();
      };
      app = createHttpServer({
        context: () => ctx,
        channels: () => channels,
        originPolicy: () => originPolicy,
        ...(isPinoGatewayLogger(baseLogger) ? { log: baseLogger.pino } : {}),
        metrics,
        options: {
          bodyLimit: http.bodyLimit,
          inviteTtlMs: options.pairingRules?.inviteTtlMs ?? DEFAULT_PAIRING_RULES.inviteTtlMs,
          now: options.now,
        },
      });
      await app.register(web.plugin);
      await registerChannelRoutes(app, channels);
      // Started before the server listens, so no device connects to a channel that is not running yet.
      if (socketChannel) {
        await socketChannel.start(ctx);
        socketChannelStarted = true;
      }
      const wsHub = new WebSocketHub(
        ctx,
        () => originPolicy,
        options.websocket,
        socketChannel,
        storedDevicePolicy(options.deviceProof, options.settingsStore ?? stores?.settings),
      );
      hub = wsHub;
      // An upgrade is a request too: its lines (and the connection's) carry a request id.
      const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void =>
        inRequestScope(newRequestId(), () => wsHub.handleUpgrade(request, socket, head));
      app.server.on("upgrade", upgrade);
      // Signing out of the console (or its session ending any other way) closes the owner sockets opened from it.
      const unwatchConsole = web.sessions.onEnded((ref) => wsHub.endCredential({ consoleSession: ref }));
      const unfollowFeed = followAnnouncements(events, web.sessions);
      const unsubscribeStore = unsubscribe;
      unsubscribe = () => {
        unwatchConsole();
        unfollowFeed();
        web.close();
        unsubscribeStore();
      };
      await app.listen({ host: http.host, port: http.port });
      const port = (app.server.address() as AddressInfo).port;
      originPolicy = createOriginPolicy({ host: http.host, port, allowedOrigins: http.allowedOrigins });
      url = `http://${http.host.includes(":") ? `[${http.host}]` : http.host}:${port}`;
      if (http.localSocket !== undefined) {
        const routed = app;
        localServer = await listenOnLocalSocket(http.localSocket, {
          request: (request, response) => routed.routing(request, response),
          upgrade,
        });
      }
      for (const channel of channels) {
        await channel.start(ctx);
        started.push(channel);
      }
      if (ctx.leases) {
        const listening = url;
        heartbeat = startHeartbeat(ctx.leases, {
          version: GATEHOUSE_VERSION,
          url: () => listening,
          channels: () => channels.map((c) => c.channelType),
        });
      }
      state = "running";
      logger.info("gateway started", {
        url,
        localSocket: http.localSocket ?? null,
        console: consoleDir ? `${url}/console/` : null,
        channels: channels.map((c) => c.channelType),
      });
    } catch (error) {
      await teardown();
      state = "stopped";
      throw error;
    }
  }

  async function stop(): Promise<void> {
    if (state === "stopped" || state === "stopping" || state === "new") {
      state = "stopped";
      return;
    }
    state = "stopping";
    await teardown();
    state = "stopped";
    logger.info("gateway stopped");
  }

  return {
    start,
    stop,
    events,
    get url(): string {
      if (url === undefined) throw new Error("gateway.url is known once start() has resolved");
      return url;
    },
    get context(): GatewayContext {
      if (context === undefined) throw new Error("gateway.context is available once start() has been called");
      return context;
    },
  };
}

function defaultAuth(stores: Stores | undefined): AuthProtocol {
  if (!stores?.tokens) {
    throw new Error("no auth given and the store keeps no API tokens: pass `auth`, or use a store with a token table");
  }
  return tokenAuth(stores.tokens);
}
