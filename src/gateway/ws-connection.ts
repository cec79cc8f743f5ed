import type { IncomingMessage } from "node:http";
import { WebSocket, type RawData } from "ws";
import { shortReason, SocketWriter } from "./ws-writer.js";
import type { Principal } from "../protocols/types.js";
import type { AuditEvent } from "../stores/types.js";
import type { ApprovalEvent } from "../stores/approvals.js";
import { authorizePrincipal } from "../core/admission.js";
import type { ChannelNotice, GatewayContext } from "../core/context.js";
import { errorBody, fromZodError, GatewayError, toGatewayError } from "../core/errors.js";
import { TokenBucket } from "./rate-limit.js";
import { connectFrame, type RequestFrame } from "../core/schemas.js";
import { bindSession } from "./session-ids.js";
import type { ResolvedWebSocketOptions } from "./ws-options.js";
import type { CredentialEnd } from "./ws-credential.js";
import type { DeviceLink, DeviceRefusal } from "../core/socket-channel.js";
import { CLOSE, REFUSALS } from "./ws-close-codes.js";
import { decodeFrame, parseRequestFrame } from "./ws-frame-decoding.js";
import { type Closing, type EntryHooks, SocketEntry } from "./ws-entry.js";
import { handleMethod, type MethodCaller } from "./ws-methods.js";

/** What the hub lends a connection: who admits token-less sockets and at what cost (EntryHooks), a hello callback. */
export interface ConnectionHooks extends EntryHooks {
  /** Called once, when the socket has said hello (it no longer counts as unauthenticated). */
  onAuthenticated?: () => void;
}

type State = "awaiting-connect" | "connecting" | "proving" | "pairing" | "ready" | "closed";

/**
 * One client socket: `connect` first (a token → auth; a device id → the socket channel, webchat, which admits it and
 * tells it through this connection as its DeviceLink), then `req` frames. Principal and role come only from auth.check
 * or the socket channel, never from client params. This keeps the frames, the state and the close; how the socket got
 * in and whether it still may go on is its SocketEntry's (ws-entry.ts).
 */
export class ClientConnection implements MethodCaller, DeviceLink {
  private state: State = "awaiting-connect";
  private alive = true;
  private readonly bucket: TokenBucket;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly entry: SocketEntry;
  private rechecking = false;
  private readonly writer: SocketWriter;
  principal: Principal | undefined;
  sessionId: string | undefined;

  constructor(
    readonly ctx: GatewayContext,
    private readonly ws: WebSocket,
    upgrade: IncomingMessage,
    private readonly options: ResolvedWebSocketOptions,
    private readonly hooks: ConnectionHooks = {},
  ) {
    this.writer = new SocketWriter(ws, upgrade.socket);
    this.entry = new SocketEntry(ctx, upgrade, hooks, options.deviceChallengeTtlMs, this.failWith);
    this.bucket = new TokenBucket(options.rateLimit.capacity, options.rateLimit.refillPerSecond);
    this.setTimer(options.connectTimeoutMs, () =>
      this.fail(CLOSE.timeout, "connect_required", "no connect frame within the time limit"),
    );
    ws.on("message", (data, isBinary) => void this.onFrame(data, isBinary));
    ws.on("pong", () => {
      this.alive = true;
    });
    ws.on("close", () => this.onClose());
    ws.on("error", () => this.onClose());
  }

  /** Set for device (webchat) sockets: the device id the client presented. */
  get deviceId(): string | undefined {
    return this.entry.deviceId;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get isOwner(): boolean {
    return (
      this.state === "ready" &&
      this.principal !== undefined &&
      this.deviceId === undefined &&
      authorizePrincipal(this.principal).allowed
    );
  }

  send(frame: Record<string, unknown>): void {
    this.writer.send(frame);
  }

  /** Sends a frame the caller already serialised (the same bytes JSON.stringify would give for it). */
  sendJson(json: string): void {
    this.writer.sendJson(json);
  }

  pushEvent(event: string, payload: AuditEvent | ApprovalEvent | ChannelNotice): void {
    this.send({ type: "event", event, payload });
  }

  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
    this.recheck();
  }

  /**
   * Re-reads from the store what this socket depends on: a ready socket presents its credential (or device) again and
   * closes if it is no longer valid. Used by the heartbeat and when the store's event feed missed events (a resync),
   * so nothing rests on an event that never arrived (waiting devices are the webchat channel's: `resynced()`).
   */
  recheck(): void {
    if (this.state === "ready" && !this.rechecking) {
      this.rechecking = true;
      void this.entry
        .stillIn(true)
        .catch(() => true)
        .finally(() => {
          this.rechecking = false;
        });
    }
  }

  private readonly failWith = (closing: Closing): void => this.fail(closing.close, closing.code, closing.message);

  /** Sends an error frame with the whole message, then closes with a short reason. */
  fail(code: number, errorCode: GatewayError["code"], message: string): void {
    if (this.state === "closed") return;
    this.send({ type: "error", error: errorBody(new GatewayError(errorCode, message)) });
    this.state = "closed";
    this.clearTimer();
    this.abort.abort();
    this.writer.flush();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(code, shortReason(message));
  }

  async shutdown(graceMs: number): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.ws.once("close", () => resolve()));
    this.fail(CLOSE.goingAway, "unavailable", "the gateway is shutting down");
    const timer = setTimeout(() => this.ws.terminate(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  /** DeviceLink: the channel let the device in at connect. */
  letIn(principal: Principal): Promise<void> {
    if (this.state !== "connecting") return Promise.resolve();
    return this.becomeReady(principal, this.entry.requestedSessionId);
  }

  /** DeviceLink: the owner approved this waiting device: a privilege change, so the socket gets a fresh session id. */
  async approve(principal: Principal): Promise<void> {
    if (this.state !== "pairing") return;
    this.state = "connecting";
    this.send({ type: "event", event: "pairing.approved" });
    await this.becomeReady(principal, undefined);
  }

  /** DeviceLink: the device waits for an owner, until its request expires (at most `pairingWaitMs`). */
  awaitApproval(code: string, expiresAt: number | undefined): void {
    if (this.state !== "connecting") return;
    this.state = "pairing";
    const waitMs = expiresAt !== undefined ? Math.max(1_000, expiresAt - Date.now()) : this.options.pairingWaitMs;
    this.setTimer(Math.min(waitMs, this.options.pairingWaitMs), () => {
      if (this.state === "pairing") this.fail(CLOSE.forbidden, "forbidden", "your pairing request expired");
    });
    this.send({ type: "pairing", code, ...(expiresAt !== undefined ? { expiresAt } : {}) });
  }

  /** DeviceLink: the channel refused the device (at connect, or by a decision made since). */
  refuse(reason: DeviceRefusal, message: string): void {
    const refusal = REFUSALS[reason];
    this.fail(refusal.close, refusal.code, message);
  }

  get isReady(): boolean {
    return this.state === "ready";
  }

  /**
   * The credential this socket was opened with has ended (an API token deleted, on any instance, or the console session
   * signed out or expired): the socket is closed at once (4401), whatever it is doing.
   */
  onCredentialEnded(ended: CredentialEnd): void {
    if (this.entry.endedBy(ended))
      this.fail(CLOSE.unauthorized, "unauthenticated", "the credential behind this socket has ended");
  }

  private async onFrame(data: RawData, isBinary: boolean): Promise<void> {
    if (this.state === "closed") return;
    if (!this.bucket.take()) {
      this.send({ type: "error", error: errorBody(new GatewayError("rate_limited", "too many frames; slow down")) });
      return;
    }
    const decoded = decodeFrame(data, isBinary);
    if (!decoded.ok) {
      const { error } = decoded;
      const before = this.state === "awaiting-connect" || this.state === "proving";
      return before ? this.fail(CLOSE.policy, error.code, error.message) : this.refuseFrame(undefined, error);
    }
    const { frame, type } = decoded;
    if (this.state === "awaiting-connect") {
      if (type !== "connect")
        return this.fail(CLOSE.policy, "connect_required", 'the first frame must be {"type":"connect"}');
      return this.onConnect(frame);
    }
    if (this.state === "proving") {
      if (type !== "proof")
        return this.fail(
          CLOSE.policy,
          "invalid_request",
          'answer the challenge first: {"type":"proof","params":{"signature":"…"}}',
        );
      return this.onProof(frame);
    }
    if (type === "connect")
      return this.refuseFrame(undefined, new GatewayError("invalid_request", "already connected"));
    if (type !== "req")
      return this.refuseFrame(undefined, new GatewayError("invalid_request", 'type: expected "req"', "type"));
    const parsed = parseRequestFrame(frame);
    if (!parsed.ok) return this.refuseFrame(parsed.id, parsed.error);
    const { request } = parsed;
    if (this.state !== "ready") {
      const message =
        this.state === "pairing"
          ? "waiting for the owner to approve this device"
          : "wait for hello before sending requests";
      return this.refuseFrame(request.id, new GatewayError("forbidden", message));
    }
    await this.onRequest(request);
  }

  private refuseFrame(id: string | number | undefined, error: GatewayError): void {
    if (id === undefined) this.send({ type: "error", error: errorBody(error) });
    else this.send({ type: "res", id, ok: false, error: errorBody(error) });
  }

  private async onConnect(frame: unknown): Promise<void> {
    const parsed = connectFrame.safeParse(frame);
    if (!parsed.success) return this.fail(CLOSE.policy, "invalid_request", fromZodError(parsed.error).message);
    this.state = "connecting";
    await this.entering(async () => {
      const step = await this.entry.connect(parsed.data.params);
      if (this.state === "closed") return;
      switch (step.kind) {
        case "closed":
          return this.failWith(step);
        case "ready":
          return this.becomeReady(step.principal, this.entry.requestedSessionId);
        case "device":
          return this.admitDevice(step.deviceId);
        case "challenge":
          this.state = "proving";
          this.send({ type: "challenge", ...step.challenge });
      }
    });
  }

  /** A key device's answer to its challenge: a proven device is handed on to its channel. */
  private async onProof(frame: unknown): Promise<void> {
    const proof = this.entry.prove(frame);
    if (!proof.ok) return this.fail(proof.close, proof.code, proof.message);
    this.state = "connecting";
    await this.entering(() => this.admitDevice(proof.deviceId));
  }

  /** A step on the way in; one that throws (a store or a channel that cannot answer) closes the socket, 1013. */
  private async entering(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      const mapped = toGatewayError(error);
      this.ctx.logger.warn("websocket connect failed closed", {
        error: error instanceof Error ? error.name : "unknown",
      });
      this.fail(
        CLOSE.tryAgainLater,
        mapped.code === "internal" ? "unavailable" : mapped.code,
        "the gateway is temporarily unavailable; try again shortly",
      );
    }
  }

  /** The socket channel (webchat) admits the device and answers through this DeviceLink. */
  private async admitDevice(deviceId: string): Promise<void> {
    const session = await this.entry.admitDevice(deviceId, this);
    if (this.state === "closed") session.closed();
  }

  /** Whether this socket waits for the owner's approval. */
  get isAwaitingApproval(): boolean {
    return this.state === "pairing";
  }

  private async becomeReady(principal: Principal, requestedSessionId: string | undefined): Promise<void> {
    try {
      const sessionId = await bindSession(this.ctx, principal, requestedSessionId);
      if (this.state === "closed") return;
      this.principal = principal;
      this.sessionId = sessionId;
      this.state = "ready";
      this.clearTimer();
      this.hooks.onAuthenticated?.();
      this.send({ type: "hello", sessionId, principal: { userId: principal.userId, role: principal.role } });
    } catch (error) {
      this.ctx.logger.warn("session binding failed; socket closed", {
        error: error instanceof Error ? error.name : "unknown",
      });
      this.fail(CLOSE.tryAgainLater, "unavailable", "sessions are temporarily unavailable; try again shortly");
    }
  }

  private async onRequest(frame: RequestFrame): Promise<void> {
    try {
      if (!(await this.entry.stillIn())) return;
      const payload = await handleMethod(this, frame);
      this.writer.sendResult(frame.id, payload);
    } catch (error) {
      const mapped = toGatewayError(error);
      if (mapped.code === "internal") {
        this.ctx.logger.error("websocket request failed", {
          method: frame.method,
          error: error instanceof Error ? error.name : "unknown",
        });
      }
      this.send({ type: "res", id: frame.id, ok: false, error: errorBody(mapped) });
    }
  }

  private onClose(): void {
    this.entry.closed();
    this.state = "closed";
    this.clearTimer();
    this.abort.abort();
  }

  private setTimer(ms: number, fn: () => void): void {
    this.clearTimer();
    this.timer = setTimeout(fn, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
