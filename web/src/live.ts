import { api, ApiError, socketUrl } from "./api.js";

export type LiveStatus = "connecting" | "live" | "offline";

interface ServerFrame {
  type?: unknown;
  event?: unknown;
  payload?: unknown;
}

/**
 * The owner's live feed: a WebSocket opened with a single-use ticket from POST /console/ws-ticket (the browser cannot
 * send the cookie's session as a header, and the token never reaches this page). Pairing events are handed to
 * `onEvent`; a dropped socket reconnects with backoff and a fresh ticket.
 */
export class LiveFeed {
  private socket: WebSocket | null = null;
  private stopped = false;
  private retryMs = 1000;
  private timer: number | undefined;

  constructor(
    private readonly onEvent: (event: string, payload: unknown) => void,
    private readonly onStatus: (status: LiveStatus) => void,
  ) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.socket?.close(1000, "signed out");
    this.socket = null;
  }

  private async connect(): Promise<void> {
    this.onStatus("connecting");
    let ticket: string;
    try {
      ticket = (await api<{ ticket: string }>("POST", "/console/ws-ticket")).ticket;
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.stopped = true;
        this.onStatus("offline");
        return;
      }
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    const socket = new WebSocket(socketUrl());
    this.socket = socket;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ type: "connect", params: { token: ticket } }));
    });
    socket.addEventListener("message", (message) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(message.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === "hello") {
        this.retryMs = 1000;
        this.onStatus("live");
        // Anything may have happened while we were away.
        this.onEvent("resync", null);
      } else if (frame.type === "event" && typeof frame.event === "string") {
        this.onEvent(frame.event, frame.payload);
      }
    });
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.socket = null;
      if (!this.stopped) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    this.onStatus("offline");
    if (this.stopped) return;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 15_000);
  }
}
