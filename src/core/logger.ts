/**
 * Where the gateway and its channels write what happened; never given codes, tokens, secrets or conversation text.
 * The gateway's own implementation is pino (src/gateway/logger.ts), which also redacts by field name.
 */
export interface GatewayLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: GatewayLogger = { info() {}, warn() {}, error() {} };

/** The levels a log can be set to (lines below it are not written); `silent` writes none. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** json: one JSON object per line; pretty: one readable line per entry, for a terminal. */
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
