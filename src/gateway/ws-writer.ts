import type { Socket } from "node:net";
import * as wsExports from "ws";
import { WebSocket, type RawData } from "ws";

/** The frame options of `ws.send(text)` on a server socket: one whole, unmasked, uncompressed text frame. */
interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}
const TEXT_FRAME: FrameOptions = { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false };
/** ws's own framer (what `ws.send` frames with), exported by ws beside WebSocket; @types/ws leaves it out. */
const { Sender } = wsExports as unknown as { Sender?: { frame?: (data: Buffer, options: FrameOptions) => Buffer[] } };
if (typeof Sender?.frame !== "function")
  throw new Error(
    "gatehouse: the installed ws does not export Sender.frame; install the ws version package.json names",
  );
const frame = Sender.frame;

/**
 * The writing side of one WebSocket: frames as JSON text, and the frames of one tick in one socket write. Frames sent
 * in the same tick (a request's `chat.delta` events and its `res`, when the agent answers at once) are queued and
 * leave together once the tick's work (its microtasks) is done: framed by ws's own framer and written as one buffer,
 * one write through the socket's stream instead of two per frame. Nothing waits longer than that, so a slow agent's
 * deltas still stream as they come. The gateway's WebSocket server never negotiates compression, so a frame is the
 * text as it is; a close goes through `flush()` first, so a socket's last frames are never cut off by its close frame.
 */
export class SocketWriter {
  private queued: string[] = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Pick<Socket, "write">,
  ) {}

  send(frame: Record<string, unknown>): void {
    this.sendJson(JSON.stringify(frame));
  }

  /** Sends a frame the caller already serialised (the same bytes JSON.stringify would give for it). */
  sendJson(json: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.queued.push(json) === 1) process.nextTick(this.flush);
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

  /** Writes the frames queued in this tick now (before the socket is closed, say). */
  readonly flush = (): void => {
    const frames = this.queued;
    if (frames.length === 0) return;
    this.queued = [];
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const parts: Buffer[] = [];
    for (const json of frames) parts.push(...frame(Buffer.from(json), TEXT_FRAME));
    this.socket.write(Buffer.concat(parts));
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
