import { EventEmitter } from "node:events";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { resolveConversationLimits } from "../conversation/memory.js";
import { SessionTurns } from "../conversation/turns.js";
import { assertAuthProtocol, assertPairingProtocol, assertSessionBindingProtocol } from "../protocols/guards.js";
import { describeSecretSource, loadGatewaySecret } from "../pairing/secret.js";
import { MemoryBudgetStore } from "../stores/memory/budgets.js";
import { openStores } from "../stores/open.js";
import type { Stores } from "../stores/types.js";
import { DEFAULT_PAIRING_RULES } from "../stores/types.js";
import { findConsoleDir } from "./console-static.js";
import { ApprovalService } from "../core/approvals/service.js";
import { createConsole } from "./console/index.js";
import type { ChannelPlugin, GatewayContext } from "../core/context.js";
import { registerChannelRoutes } from "./channel-routes.js";
import { createHttpServer } from "./http-server.js";
import { randomBytes } from "node:crypto";
import type { LeaseKeeper } from "../core/lease-keeper.js";
import { GatewayLeases } from "../core/leases.js";
import { GATEHOUSE_VERSION } from "../core/version.js";
import { startHeartbeat } from "./heartbeat.js";
import { chatOwnerCheck } from "../core/admission.js";
import { closeLocalSocket, listenOnLocalSocket } from "./local-socket.js";
import { createLogger, isPinoGatewayLogger } from "./logger.js";
import { CHANNEL_CONNECT_GRACE_MS, ChannelStartup } from "./channel-startup.js";
import { channelHealth } from "./health.js";
import { PrometheusMetrics } from "./metrics/prometheus.js";
import { timedStore } from "./metrics/timed-store.js";
import { createOriginPolicy, type OriginPolicy } from "./origin-policy.js";
import { bridgeStoreEvents } from "./store-events.js";
import { consoleStores, followAnnouncements } from "./console/store-wiring.js";
import { WebSocketHub } from "./ws-hub.js";
import { storedDevicePolicy } from "./device-handshake.js";
import { DEFAULT_DATA_DIR, DEFAULT_STORE_URL, type Gateway, type GatewayOptions } from "./gateway-options.js";
import {
  agentOption,
  checkChannels,
  checkLeaseTtl,
  checkSecret,
  conversationMemory,
  defaultAuth,
  resolveHttp,
  resolvePolicy,
  socketChannelOption,
} from "./resolve-options.js";

export {
  DEFAULT_DATA_DIR,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_STORE_URL,
  type ConversationOptions,
  type Gateway,
  type GatewayHttpOptions,
  type GatewayOptions,
} from "./gateway-options.js";

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
  checkSecret(options.secret);
  const channels = options.channels ?? [];
  checkChannels(channels);
  const socketChannel = socketChannelOption(options.webchat);
  const policy = resolvePolicy(options.policy);
  const http = resolveHttp(options.http);
  // Lines written while handling an HTTP request or a WebSocket connection carry its requestId (log-scope.ts).
  const logger = options.logger ?? createLogger();
  const startups = channels.map(
    (channel) => new ChannelStartup(channel, () => logger, options.channelConnectGraceMs ?? CHANNEL_CONNECT_GRACE_MS),
  );
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
  checkLeaseTtl(leaseTtlMs);
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
        channels: () => startups,
        originPolicy: () => originPolicy,
        ...(isPinoGatewayLogger(logger) ? { log: logger.pino } : {}),
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
      const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void =>
        wsHub.handleUpgrade(request, socket, head);
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
      // Together, each for at most the grace period: a platform that does not answer does not hold the gateway back.
      started.push(...startups);
      const failure = (await Promise.allSettled(startups.map((startup) => startup.start(ctx)))).find(
        (outcome) => outcome.status === "rejected",
      );
      if (failure) throw failure.reason;
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
