import type { Writable } from "node:stream";
import { pino, stdTimeFunctions, type Logger } from "pino";
import pretty from "pino-pretty";
import { LOG_FORMATS, LOG_LEVELS, type GatewayLogger, type LogFormat, type LogLevel } from "../core/logger.js";
import { loggedUrl, REDACT_PATHS, REDACTED, scrubFields } from "./log-redaction.js";

export {
  LOG_FORMATS,
  LOG_LEVELS,
  silentLogger,
  type GatewayLogger,
  type LogFormat,
  type LogLevel,
} from "../core/logger.js";

export interface LoggerOptions {
  /** Lines below this level are not written; default info. */
  level?: LogLevel;
  /** json: one JSON object per line (default); pretty: one readable line per entry, for a terminal. */
  format?: LogFormat;
  /** Where lines go; default stderr. */
  destination?: NodeJS.WritableStream;
}

/** A GatewayLogger written by pino; the gateway hands `pino` to fastify, so its request lines go the same way. */
export interface PinoGatewayLogger extends GatewayLogger {
  readonly pino: Logger;
}

export function isPinoGatewayLogger(logger: GatewayLogger): logger is PinoGatewayLogger {
  return typeof (logger as Partial<PinoGatewayLogger>).pino?.child === "function";
}

/**
 * The gateway's logger: pino (the logger fastify uses), one line per entry with `time`, `level` (a word), `message`
 * and the entry's fields. Tokens, codes, secrets, passwords, cookies and authorization headers are redacted by field
 * name; passwords in URLs and bearer tokens are taken out of any string; request URLs are logged without their query.
 */
export function createLogger(options: LoggerOptions = {}): PinoGatewayLogger {
  const level = options.level ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new TypeError(`log level must be one of ${LOG_LEVELS.join(", ")} (got ${JSON.stringify(level)})`);
  const format = options.format ?? "json";
  if (!(LOG_FORMATS as readonly string[]).includes(format))
    throw new TypeError(`log format must be json or pretty (got ${JSON.stringify(format)})`);
  const destination = options.destination ?? process.stderr;
  const logger = pino(
    {
      level,
      messageKey: "message",
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrubFields(object) as Record<string, unknown>,
      },
      serializers: {
        req: (request: { method?: string; url?: string; socket?: { remoteAddress?: string } }) => ({
          method: request.method,
          url: loggedUrl(request.url),
          remoteAddress: request.socket?.remoteAddress,
        }),
      },
    },
    format === "pretty" ? prettyStream(destination) : destination,
  );
  return {
    pino: logger,
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}

/** One readable line per entry (pino-pretty, synchronous, colours only on a terminal). */
function prettyStream(destination: NodeJS.WritableStream): Writable {
  const isTty = (destination as { isTTY?: boolean }).isTTY === true;
  return pretty({
    destination: destination as Writable,
    sync: true,
    colorize: isTty,
    messageKey: "message",
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname",
    singleLine: true,
  });
}

/** The default logger: JSON lines on `stream` (stderr), through createLogger. */
export function jsonLogger(stream: NodeJS.WritableStream = process.stderr): PinoGatewayLogger {
  return createLogger({ destination: stream });
}
