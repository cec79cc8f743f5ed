import { socketUrl } from "./api.js";
import { signChallenge, type DeviceKey } from "./device-key.js";

/**
 * One webchat socket of a key device (src/gateway/README.md "WebSocket /ws" and "Device keys"): connect with the key,
 * sign the gateway's challenge (only when it names the host this page talks to), then report what the gateway says as
 * plain events. Used by the console's chat panel and the public /chat/ page; what to show, and when to reconnect, is
 * theirs to decide.
 */
export type WebchatEvent =
  | { type: "waiting"; code: string; expiresAt: number | null }
  | { type: "approved" }
  | { type: "ready" }
  | { type: "denied" }
  | { type: "delta"; id: string; text: string }
  | { type: "reply"; id: string; ok: boolean; text: string }
  /** The socket ended: `code` is the WebSocket close code, `reason` the gateway's last error message or close reason. */
  | { type: "closed"; code: number; reason: string };

interface Frame {
  type?: unknown;
  id?: unknown;
  ok?: unknown;
  event?: unknown;
  payload?: unknown;
  error?: { message?: unknown };
  code?: unknown;
  expiresAt?: unknown;
  nonce?: unknown;
  audience?: unknown;
}

/** Close codes the gateway uses (src/gateway/ws-close-codes.ts) that a page tells apart. */
export const CLOSE_CODES = { normal: 1000, policy: 1008, unauthorized: 4401, forbidden: 4403 } as const;

export class WebchatSocket {
  private readonly socket: WebSocket;
  private nextId = 1;
  private ended = false;
  /** The gateway's last error frame: it explains the close that follows. */
  private lastError: string | null = null;

  constructor(
    private readonly key: DeviceKey,
    private readonly onEvent: (event: WebchatEvent) => void,
    name?: string,
  ) {
    const socket = new WebSocket(socketUrl());
    this.socket = socket;
    socket.addEventListener("open", () => {
      const params: Record<string, string> = { deviceId: key.deviceId, publicKey: key.publicKey };
      if (name !== undefined && name !== "") params.name = name;
      socket.send(JSON.stringify({ type: "connect", params }));
    });
    socket.addEventListener("message", (message) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(message.data)) as Frame;
      } catch {
        return;
      }
      this.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.ended) return;
      this.ended = true;
      this.onEvent({ type: "closed", code: event.code, reason: this.lastError ?? event.reason });
    });
  }

  /** Sends `text` to the agent; returns the request id its delta and reply events carry. */
  send(text: string): string {
    const id = `c${this.nextId++}`;
    this.socket.send(JSON.stringify({ type: "req", id, method: "chat.send", params: { text } }));
    return id;
  }

  /** Closes the socket without a "closed" event (the caller chose to). */
  close(): void {
    this.ended = true;
    this.socket.close(CLOSE_CODES.normal, "bye");
  }

  private async answer(frame: Frame): Promise<void> {
    const { nonce, audience, expiresAt } = frame;
    if (typeof nonce !== "string" || typeof audience !== "string" || typeof expiresAt !== "number") return;
    if (audience !== new URL(socketUrl()).host.toLowerCase()) {
      this.lastError = "the gateway asked to sign for another address";
      this.socket.close(CLOSE_CODES.normal, "wrong audience");
      return;
    }
    const signature = await signChallenge(this.key, { nonce, audience, expiresAt });
    if (!this.ended) this.socket.send(JSON.stringify({ type: "proof", params: { signature } }));
  }

  private onFrame(frame: Frame): void {
    if (frame.type === "challenge") {
      void this.answer(frame);
    } else if (frame.type === "pairing" && typeof frame.code === "string") {
      const expiresAt = typeof frame.expiresAt === "number" ? frame.expiresAt : null;
      this.onEvent({ type: "waiting", code: frame.code, expiresAt });
    } else if (frame.type === "hello") {
      this.onEvent({ type: "ready" });
    } else if (frame.type === "event" && frame.event === "pairing.approved") {
      this.onEvent({ type: "approved" });
    } else if (frame.type === "event" && frame.event === "pairing.denied") {
      this.onEvent({ type: "denied" });
    } else if (frame.type === "event" && frame.event === "chat.delta") {
      const payload = frame.payload as { id?: unknown; text?: unknown } | undefined;
      if (typeof payload?.text === "string")
        this.onEvent({ type: "delta", id: String(payload.id), text: payload.text });
    } else if (frame.type === "res") {
      const id = String(frame.id);
      if (frame.ok === true) {
        const text = (frame.payload as { text?: unknown } | undefined)?.text;
        this.onEvent({ type: "reply", id, ok: true, text: typeof text === "string" ? text : "" });
      } else {
        const message = frame.error?.message;
        const text = typeof message === "string" ? message : "The message could not be delivered.";
        this.onEvent({ type: "reply", id, ok: false, text });
      }
    } else if (frame.type === "error" && typeof frame.error?.message === "string") {
      this.lastError = frame.error.message;
    }
  }
}
