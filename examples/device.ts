/**
 * A webchat device asking for access, as a browser would: connects to /ws with a random device id, prints the pairing
 * code the owner must approve, and waits until it is let in (or refused).
 *   npx tsx examples/device.ts [ws://127.0.0.1:8787/ws]
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";

const url = process.argv[2] ?? "ws://127.0.0.1:8787/ws";
const socket = new WebSocket(url);
socket.on("open", () => socket.send(JSON.stringify({ type: "connect", params: { deviceId: `device-${randomUUID()}` } })));
socket.on("message", (data) => {
  const frame = JSON.parse(data.toString()) as { type: string; code?: string; sessionId?: string };
  if (frame.type === "pairing") console.log(`pairing code: ${frame.code} (waiting for the owner)`);
  if (frame.type === "hello") {
    console.log("admitted");
    socket.close();
  }
});
socket.on("close", (code) => process.exit(code === 1000 || code === 1005 ? 0 : 1));
