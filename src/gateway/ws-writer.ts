import type { Socket } from "node:net";
import { WebSocket, type RawData } from "ws";

/**
 * The writing side of one WebSocket: frames as JSON text, and the writes of one tick in one socket write. Frames sent in
 * the same tick (a request's `chat.delta` events and its `res`, when the agent answers at once) leave together: the
 * socket is corked at the first send and uncorked once the tick's work (its microtasks) is done. Nothing waits longer
 * than that, so a slow agent's deltas still stream as they come.
 */
export class SocketWriter {
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Pick<Socket, "cork" | "uncork">,
  ) {}

  send(frame: Record<string, unknown>): void {
    this.sendJson(JSON.stringify(frame));
  }

  /** Sends a frame the caller already serialised (the same bytes JSON.stringify would give for it). */
  sendJson(json: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.holdWrites();
    this.ws.send(json);
  }

  /** `send({ type: "res", id, ok: true, payload })`, without building and walking the outer object. */
  sendResult(id: string | number, payload: unknown): void {
    const body = payload === undefined ? undefined : (JSON.stringify(payload) as string | undefined);
    if (body === undefined) {
      this.send({ type: "res", id, ok: true, payload });
      return;
    }
    this.sendJson(`{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":${body}}`);
  }

  private holdWrites(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(this.releaseWrites);
  }

  private readonly releaseWrites = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
}

/** A frame's text, however ws delivered it. */
export function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

/** Close reasons are limited to 123 bytes by the protocol; the full message goes in an error frame first. */
export function shortReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > 120) reason = reason.slice(0, -1);
  return reason;
}
