import type { GatewayLogger } from "../core/context.js";
import type { AnswerOptions, ButtonPress, ChannelHandlers } from "./channel.js";
import { errorName } from "./redact.js";

/** Runs handler work without blocking the platform's update loop; stop() can wait for what is still running. */
export class InFlight {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly logger: GatewayLogger | undefined,
    private readonly channelType: string,
  ) {}

  track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) =>
        this.logger?.error("channel handler failed", { channelType: this.channelType, error: errorName(error) }),
      )
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** Waits for running work, at most `limitMs`. */
  async settle(limitMs = 5_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, limitMs);
      timer.unref?.();
    });
    await Promise.race([Promise.allSettled([...this.running]), limit]);
    clearTimeout(timer);
  }
}

/** Kept here for existing imports; the one implementation is in ./text/ (it never cuts inside a character). */
export { splitText } from "./text/split.js";

/** A logger that drops everything, for adapters used without one. */
export const SILENT_LOGGER: GatewayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The raw request body, refused (thrown) past `limit` bytes. */
export async function readRawBody(req: import("node:http").IncomingMessage, limit = 1_000_000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A single-valued request header, or undefined. */
export function singleHeader(req: import("node:http").IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

/** Starts an HTTP server (default host 127.0.0.1: never exposed unless asked); rejects when the port is taken. */
export async function listenOn(server: import("node:http").Server, port: number, host = "127.0.0.1"): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Closes an HTTP server, dropping idle keep-alive connections. */
export async function closeServer(server: import("node:http").Server | null): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Hands a button press to the router with an `answer` that reaches the presser once (`reply` does the platform's
 * part); a press the handler left unanswered, even by failing, still gets "Something went wrong. Nothing was changed."
 */
export async function handlePress(
  handlers: Pick<ChannelHandlers, "onButton">,
  press: Omit<ButtonPress, "answer">,
  reply: (text: string, options?: AnswerOptions) => Promise<void>,
): Promise<void> {
  let answered = false;
  const answer = async (text: string, options?: AnswerOptions): Promise<void> => {
    if (answered) return;
    answered = true;
    await reply(text, options);
  };
  try {
    await handlers.onButton({ ...press, answer });
  } finally {
    if (!answered) await answer("Something went wrong. Nothing was changed.");
  }
}

/** The address an adapter's own HTTP server listens on (e.g. to learn the port picked for port 0), or null. */
export function serverAddress(server: import("node:http").Server | null): import("node:net").AddressInfo | null {
  const address = server?.address();
  return address && typeof address === "object" ? address : null;
}

/** Options every platform adapter takes. */
export interface AdapterBaseOptions {
  /** Default: the gateway's logger. */
  logger?: GatewayLogger;
  /** The channel's name in ids and config (default: the platform's name, e.g. "telegram"). */
  channelType?: string;
}
