import type { GatewayLogger } from "./context.js";

/** The default logger: one JSON line per entry on stderr. Callers never pass codes, tokens or secrets in fields. */
export function jsonLogger(stream: NodeJS.WritableStream = process.stderr): GatewayLogger {
  const write = (level: string, message: string, fields?: Record<string, unknown>): void => {
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  };
  return {
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
  };
}

export const silentLogger: GatewayLogger = { info() {}, warn() {}, error() {} };
