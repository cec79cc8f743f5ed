import { echoAgent } from "../agents/echo.js";
import { agentFromSpec } from "../agents/from-config.js";
import type { AgentSpec } from "../agents/schema.js";
import { tokenAuth } from "../auth/token.js";
import { ConversationMemory, type ConversationLimits } from "../conversation/memory.js";
import type { Agent, ChannelPlugin, GatewayLogger, PolicyOptions } from "../core/context.js";
import type { SocketChannel } from "../core/socket-channel.js";
import type { AuthProtocol } from "../protocols/types.js";
import type { ConversationStore } from "../stores/conversations.js";
import { MemoryConversationStore } from "../stores/memory/conversations.js";
import type { Stores } from "../stores/types.js";
import { DEFAULT_HOST, DEFAULT_PORT, type GatewayHttpOptions } from "./gateway-options.js";
import { createOriginPolicy } from "./origin-policy.js";

/**
 * The gateway's options, checked and given their defaults when the gateway is built, so a bad option fails at
 * construction (one TypeError naming the option and what was wrong) rather than at start or at the first request.
 */

const POLICIES = new Set(["deny", "allow", "pair"]);

export function resolvePolicy(policy: Partial<PolicyOptions> = {}): PolicyOptions {
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

export function resolveHttp(
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

export function agentOption(agent: Agent | AgentSpec | undefined): Agent {
  if (agent === undefined) return echoAgent;
  if (typeof agent === "function") return agent;
  if (agent === null || typeof agent !== "object")
    throw new TypeError("agent must be a function (message, context) => reply or an agent section");
  return agentFromSpec(agent);
}

/** The store's conversations (or the one given); an agent that uses history with neither keeps them in this process. */
export function conversationMemory(
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

/** Every channel has a type, start() and stop(). */
export function checkChannels(channels: ChannelPlugin[]): void {
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
}

/** The channel of token-less sockets (`webchat`): a socket channel, or none for `false`/absent. */
export function socketChannelOption(webchat: SocketChannel | false | undefined): SocketChannel | undefined {
  const socketChannel = webchat || undefined;
  if (
    socketChannel !== undefined &&
    (typeof socketChannel.connect !== "function" || typeof socketChannel.start !== "function")
  ) {
    throw new TypeError("webchat must be a socket channel (webchatChannel()) or false");
  }
  return socketChannel;
}

export function checkSecret(secret: Buffer | undefined): void {
  if (secret !== undefined && (!Buffer.isBuffer(secret) || secret.length < 32)) {
    throw new TypeError("secret must be a Buffer of at least 32 bytes");
  }
}

export function checkLeaseTtl(leaseTtlMs: number | undefined): void {
  if (leaseTtlMs !== undefined && !(Number.isFinite(leaseTtlMs) && leaseTtlMs >= 1_000 && leaseTtlMs <= 3_600_000)) {
    throw new TypeError(`leases.ttlMs must be from 1000 to 3600000 milliseconds (got ${String(leaseTtlMs)})`);
  }
}

/** Without an injected `auth`, the API tokens of the opened stores. */
export function defaultAuth(stores: Stores | undefined): AuthProtocol {
  if (!stores?.tokens) {
    throw new Error("no auth given and the store keeps no API tokens: pass `auth`, or use a store with a token table");
  }
  return tokenAuth(stores.tokens);
}
