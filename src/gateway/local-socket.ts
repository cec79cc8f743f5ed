import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { markLocalSocket } from "./request-view.js";

/** sun_path holds 108 bytes on Linux, 104 on macOS; a longer path cannot be bound. */
const MAX_SOCKET_PATH_BYTES = 103;
/** How long a probe of a leftover socket file may take before it counts as dead. */
const PROBE_TIMEOUT_MS = 1_000;

export interface LocalSocketHandlers {
  request(request: IncomingMessage, response: ServerResponse): void;
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/**
 * The owner-only listener: the same HTTP API and WebSocket as the TCP port, on a Unix socket file created with mode 0600
 * (under a umask of 0177, so it is never reachable by others, not even for a moment). Every connection it accepts is
 * marked, and requests on it carry `via: "local-socket"`, which `localSocketAuth` admits as the local owner. A reverse
 * proxy cannot reach it unless someone points one at this file on purpose.
 */
export async function listenOnLocalSocket(path: string, handlers: LocalSocketHandlers): Promise<Server> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `local socket path ${path} is too long for a Unix socket (at most ${MAX_SOCKET_PATH_BYTES} bytes): use a shorter data directory`,
    );
  }
  await removeLeftover(path);
  const server = createServer(handlers.request);
  server.on("connection", (socket) => markLocalSocket(socket));
  server.on("upgrade", handlers.upgrade);
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    throw new Error(`local socket ${path} cannot be created: ${(error as Error).message}`, { cause: error });
  } finally {
    process.umask(previous);
  }
  chmodSync(path, 0o600);
  return server;
}

/** Stops accepting, ends open connections, and removes the socket file. */
export async function closeLocalSocket(server: Server): Promise<void> {
  const address = server.address();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address === "string") {
    try {
      unlinkSync(address);
    } catch {
      // already gone (node removes it on close on most platforms)
    }
  }
}

/**
 * A socket file left by a gateway that crashed is removed; one that still answers belongs to a running gateway and is
 * an error; anything that is not a socket is never deleted.
 */
async function removeLeftover(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new Error(`local socket path ${path} exists and is not a socket: move it away`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    const timer = setTimeout(() => {
      probe.destroy();
      resolve(false);
    }, PROBE_TIMEOUT_MS);
    probe.once("connect", () => {
      clearTimeout(timer);
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (alive) throw new Error(`another gateway already listens on the local socket ${path}`);
  unlinkSync(path);
}
