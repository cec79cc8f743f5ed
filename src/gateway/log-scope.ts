import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { GatewayLogger } from "../core/logger.js";

/** What every log line written while handling one HTTP request or WebSocket connection carries. */
interface LogScope {
  readonly requestId: string;
}

const scope = new AsyncLocalStorage<LogScope>();

/** A fresh id for one HTTP request or WebSocket connection (random: ids from several instances never collide). */
export function newRequestId(): string {
  return randomUUID();
}

/** Runs `fn` (and whatever it starts) as part of the request `requestId`. */
export function inRequestScope<T>(requestId: string, fn: () => T): T {
  return scope.run({ requestId }, fn);
}

/** The id of the request being handled, if any. */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}

/** Adds the current request's id (when there is one, and the line does not name its own) to every line. */
export function scopedLogger(logger: GatewayLogger): GatewayLogger {
  const withId = (fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined => {
    const requestId = scope.getStore()?.requestId;
    return requestId === undefined ? fields : { requestId, ...fields };
  };
  return {
    info: (message, fields) => logger.info(message, withId(fields)),
    warn: (message, fields) => logger.warn(message, withId(fields)),
    error: (message, fields) => logger.error(message, withId(fields)),
  };
}

/** A logger whose every line carries `fixed` (e.g. one WebSocket connection's request id), besides its own fields. */
export function withFields(logger: GatewayLogger, fixed: Record<string, unknown>): GatewayLogger {
  return {
    info: (message, fields) => logger.info(message, { ...fixed, ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fixed, ...fields }),
    error: (message, fields) => logger.error(message, { ...fixed, ...fields }),
  };
}
