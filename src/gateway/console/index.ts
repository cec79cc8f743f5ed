import type { FastifyInstance } from "fastify";
import type { AuthProtocol } from "../../protocols/types.js";
import type { GatewayLogger } from "../../core/context.js";
import type { OriginPolicy } from "../origin-policy.js";
import { withConsoleAuth } from "./auth.js";
import { cookieSigner } from "./cookie.js";
import { consolePlugin } from "./plugin.js";
import type { BudgetStore } from "../../stores/budget.js";
import { ConsoleSessions, type ConsoleSessionOptions, type ConsoleSessionStores } from "./sessions.js";

export { CONSOLE_COOKIE } from "./cookie.js";
export { CSRF_HEADER } from "./csrf.js";
export { ConsoleSessions, TICKET_PREFIX, type ConsoleSessionOptions, type ConsoleSessionStores } from "./sessions.js";

export interface ConsoleOptions {
  /** The gateway's auth; sign-in and every console request check the owner's token with it. */
  auth: AuthProtocol;
  /** The gateway secret; the cookie-signing key is derived from it (HKDF label "cookie"). */
  secret: Buffer;
  /** The gateway's Host/Origin allowlist, shared with the API and WebSocket (a getter: known once listening). */
  originPolicy: () => OriginPolicy;
  logger?: GatewayLogger;
  /** The built console (see findConsoleDir); null or absent: /console says it is not built. */
  staticDir?: string | null;
  sessions?: ConsoleSessionOptions;
  /** Where sessions live: the gateway's store, shared by every instance. Absent: this process's memory. */
  store?: ConsoleSessionStores;
  /** The store's budgets, for sign-in attempts per address across instances. Absent: this process's memory. */
  budgets?: BudgetStore;
  /** The channel types this gateway runs (its channels and webchat), offered in the console's forms. */
  channelTypes?: () => readonly string[];
}

export interface GatewayConsole {
  /**
   * The gateway's auth, extended to accept a console cookie session (HTTP, with CSRF rules) and a console WebSocket
   * ticket. Use it wherever the gateway checks owners, so the console needs no token in the page.
   */
  auth: AuthProtocol;
  /** Register on the gateway's fastify instance: serves /console and its session endpoints. */
  plugin: (app: FastifyInstance) => Promise<void>;
  sessions: ConsoleSessions;
  /** Stops following session ends (the gateway calls it on stop); the sessions stay in the store for other instances. */
  close(): void;
}

const SILENT: GatewayLogger = { info() {}, warn() {}, error() {} };

/** The owner's web console: an auth wrapper for the gateway and a fastify plugin, sharing one session table. */
export function createConsole(options: ConsoleOptions): GatewayConsole {
  const sessions = new ConsoleSessions(options.secret, options.store, options.sessions);
  const deps = {
    sessions,
    signer: cookieSigner(options.secret),
    originPolicy: options.originPolicy,
    logger: options.logger ?? SILENT,
  };
  const staticDir = options.staticDir ?? null;
  return {
    auth: withConsoleAuth(options.auth, deps),
    plugin: (app) =>
      consolePlugin(app, {
        ...deps,
        auth: options.auth,
        staticDir,
        channelTypes: options.channelTypes ?? (() => []),
        ...(options.budgets ? { budgets: options.budgets } : {}),
      }),
    sessions,
    close: () => sessions.close(),
  };
}
