import { randomUUID } from "node:crypto";
import type { GatewayLogger } from "../core/logger.js";

/**
 * Request ids on log lines. Each HTTP request and WebSocket connection gets a random id, and the code handling it logs
 * through a logger that carries it (`withFields`): the HTTP routes get a context whose logger has the request's id,
 * a WebSocket connection a logger with its upgrade's id. Passed explicitly rather than through AsyncLocalStorage: on
 * Node 20 one AsyncLocalStorage.run() turns on promise hooks for every promise in the process, which cost the
 * WebSocket path about a third of its CPU per message (bench/gateway.ts, 24.5 → 16.9 µs of user time).
 */

/** A fresh id for one HTTP request or WebSocket connection (random: ids from several instances never collide). */
export function newRequestId(): string {
  return randomUUID();
}

/** A logger whose every line carries `fixed` (e.g. one request's id), besides its own fields. */
export function withFields(logger: GatewayLogger, fixed: Record<string, unknown>): GatewayLogger {
  return {
    info: (message, fields) => logger.info(message, { ...fixed, ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fixed, ...fields }),
    error: (message, fields) => logger.error(message, { ...fixed, ...fields }),
  };
}
