import { createServer } from "node:net";

/** How long the bind check may take (a bind answers at once; this only bounds a stuck resolver). */
const BIND_DEADLINE_MS = 3000;

/**
 * Whether `start` could listen on host:port: binds it for a moment and closes it again. Resolves with null when it
 * can, or with why not, naming the port, the host and the cause: in use (EADDRINUSE), privileged (EACCES), an address
 * this machine does not have (EADDRNOTAVAIL), a host name that does not resolve (ENOTFOUND).
 */
export function portProblem(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    const timer = setTimeout(() => {
      server.close();
      resolve(`could not bind ${host}:${port} within ${BIND_DEADLINE_MS / 1000} s`);
    }, BIND_DEADLINE_MS);
    server.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(describeBindError(error, host, port));
    });
    server.listen({ host, port, exclusive: true }, () => {
      clearTimeout(timer);
      server.close(() => resolve(null));
    });
  });
}

function describeBindError(error: NodeJS.ErrnoException, host: string, port: number): string {
  switch (error.code) {
    case "EADDRINUSE":
      return `port ${port} on ${host} is in use (EADDRINUSE): another gatehouse or another program listens there; stop it, or set http.port (or --port)`;
    case "EACCES":
      return `port ${port} on ${host} needs privileges (EACCES): use a port above 1023 and put a reverse proxy in front`;
    case "EADDRNOTAVAIL":
      return `${host} is not an address of this machine (EADDRNOTAVAIL); set http.host to one of its addresses`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host name ${host} does not resolve (${error.code}); set http.host to an address`;
    default:
      return `cannot listen on ${host}:${port}: ${error.code ?? error.message}`;
  }
}
