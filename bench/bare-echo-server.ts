import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { parentSaysStop } from "./lib/child.js";

/**
 * The ceiling: a bare `ws` server on 127.0.0.1 that sends every message straight back, with no gatehouse code at all.
 * Prints {"url": "..."} when listening; exits when stdin ends.
 */
const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
server.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
});
await new Promise<void>((resolve) => server.once("listening", () => resolve()));
const { port } = server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
await parentSaysStop();
server.close();
process.exit(0);
