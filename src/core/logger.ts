/** Where the gateway and its channels write what happened; never given codes, tokens, secrets or conversation text. */
export interface GatewayLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

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
