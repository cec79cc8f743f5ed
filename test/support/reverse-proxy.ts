/**
 * A reverse proxy on the gateway's own host, as nginx's default `proxy_pass http://127.0.0.1:PORT;` behaves: every
 * remote client is forwarded over loopback, the Host header is rewritten to the upstream, and no forwarding header
 * (Forwarded, X-Forwarded-For, X-Real-IP) is added. Written with node:http so the test needs nothing installed.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from "node:http";
import { connect, type AddressInfo } from "node:net";

export interface SameHostProxy {
  url: string;
  close(): Promise<void>;
}

export async function startSameHostProxy(upstream: string): Promise<SameHostProxy> {
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const headers: IncomingHttpHeaders = { ...req.headers, host: target.host };
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  // WebSocket upgrades are tunnelled the same way (nginx with `proxy_set_header Upgrade`): the request line and headers,
  // Host rewritten, then bytes both ways.
  server.on("upgrade", (req, client, head) => {
    const socket = connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        lines.push(`${name}: ${name.toLowerCase() === "host" ? target.host : req.rawHeaders[i + 1]}`);
      }
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      socket.write(head);
      socket.pipe(client).pipe(socket);
    });
    socket.on("error", () => client.destroy());
    client.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * One HTTP request with node:http (fetch would add sec-fetch-* headers), to a base URL or over a Unix socket (what
 * `curl --unix-socket PATH` sends): status and parsed JSON body.
 */
export function jsonRequest(
  to: { base: string } | { socketPath: string },
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> =
      "socketPath" in to ? { host: "localhost", ...options.headers } : { ...options.headers };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const onAnswer = (res: IncomingMessage) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    };
    const req =
      "socketPath" in to
        ? httpRequest({ socketPath: to.socketPath, method, path, headers }, onAnswer)
        : httpRequest(`${to.base}${path}`, { method, headers }, onAnswer);
    req.on("error", reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}
