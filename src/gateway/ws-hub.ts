import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { AuditEvent } from "../stores/types.js";
import type { ApprovalEvent } from "../stores/approvals.js";
import type { ChannelNotice, GatewayContext } from "../core/context.js";
import { errorBody, GatewayError } from "../core/errors.js";
import type { OriginPolicy } from "./origin-policy.js";
import type { NewRequestBudget } from "../core/admission.js";
import type { SocketChannel } from "../core/socket-channel.js";
import { newRequestId, withFields } from "./log-scope.js";
import { normalizeAddress } from "./request-view.js";
import { ClientConnection } from "./ws-connection.js";
import { CLOSE } from "./ws-close-codes.js";
import type { CredentialEnd } from "./ws-credential.js";
import { isLocalSocket } from "./request-view.js";
import { DEFAULT_WEBSOCKET_OPTIONS, type ResolvedWebSocketOptions, type WebSocketOptions } from "./ws-options.js";
import { fixedDevicePolicy, type DevicePolicy } from "./device-handshake.js";

export { DEFAULT_WEBSOCKET_OPTIONS, type ResolvedWebSocketOptions, type WebSocketOptions } from "./ws-options.js";

const APPROVAL_EVENTS = ["approval.requested", "approval.decided"] as const;
const PAIRING_EVENTS = [
  "pairing.requested",
  "pairing.approved",
  "pairing.denied",
  "pairing.revoked",
  "pairing.expired",
] as const;

/**
 * All WebSocket clients of one gateway: upgrades (origin and host checked before the handshake), heartbeat, and the
 * gateway's events fanned out to owner sockets. Token-less (device) connects are handed to the socket channel
 * (webchat), which admits them and follows their decisions.
 */
export class WebSocketHub {
  readonly options: ResolvedWebSocketOptions;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<ClientConnection>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly listeners: [string, (event: AuditEvent & ApprovalEvent) => void][] = [];
  /** Sockets not yet past hello, per normalised network address, and their sum. */
  private readonly unauthenticated = new Map<string, number>();
  private unauthenticatedTotal = 0;
  private closing = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly originPolicy: () => OriginPolicy,
    options: WebSocketOptions = {},
    private readonly socketChannel?: SocketChannel,
    private readonly devicePolicy: DevicePolicy = fixedDevicePolicy(),
  ) {
    this.options = { ...DEFAULT_WEBSOCKET_OPTIONS, ...options };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.options.maxPayload, clientTracking: false });
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
    for (const name of APPROVAL_EVENTS) {
      const listener = (event: ApprovalEvent): void => void this.onApprovalEvent(name, event);
      ctx.events.on(name, listener);
      this.listeners.push([name, listener]);
    }
    for (const name of PAIRING_EVENTS) {
      const listener = (event: AuditEvent): void => this.onPairingEvent(name, event);
      ctx.events.on(name, listener);
      this.listeners.push([name, listener]);
    }
    // A deleted API token (on this instance, by the CLI or on another instance) closes every socket opened with it.
    const onAudit = (event: AuditEvent): void => {
      if (event.type === "token-revoked") this.endCredential({ tokenId: event.channelId });
    };
    ctx.events.on("audit", onAudit);
    this.listeners.push(["audit", onAudit]);
    // The store's feed missed events (trimmed before they were read): every socket re-reads its standing from the store.
    const onResync = (): void => {
      for (const connection of this.connections) connection.recheck();
    };
    ctx.events.on("store.resync", onResync);
    this.listeners.push(["store.resync", onResync]);
    // What a channel wants the owner to see (e.g. a card WhatsApp would not deliver) goes to the console's live feed.
    const onNotice = (notice: ChannelNotice): void => {
      for (const connection of this.connections) if (connection.isOwner) connection.pushEvent("channel.notice", notice);
    };
    ctx.events.on("channel.notice", onNotice);
    this.listeners.push(["channel.notice", onNotice as (event: unknown) => void]);
  }

  /** Closes every socket opened from this credential: an API token id or a console session ref. */
  endCredential(ended: CredentialEnd): void {
    for (const connection of this.connections) connection.onCredentialEnded(ended);
  }

  /** The http server's 'upgrade' handler. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // An upgrade is a request too: its lines, and then every line of its connection, carry one request id.
    const logger = withFields(this.ctx.logger, { requestId: newRequestId() });
    const path = new URL(request.url ?? "/", "http://gateway.invalid").pathname;
    if (path !== this.options.path)
      return refuseUpgrade(socket, 404, new GatewayError("not_found", "no WebSocket endpoint here"));
    if (this.closing)
      return refuseUpgrade(socket, 503, new GatewayError("unavailable", "the gateway is shutting down"));
    const policy = this.originPolicy();
    if (!policy.isOriginAllowed(request.headers.origin)) {
      logger.warn("websocket refused: origin not allowed", {
        origin: String(request.headers.origin).slice(0, 200),
      });
      return refuseUpgrade(
        socket,
        403,
        new GatewayError("origin_not_allowed", "WebSocket connections from this Origin are not allowed"),
      );
    }
    // No DNS-rebinding page can reach the owner-only Unix socket; its clients send whatever Host they like.
    if (!isLocalSocket(socket) && !policy.isHostAllowed(request.headers.host)) {
      return refuseUpgrade(
        socket,
        403,
        new GatewayError("origin_not_allowed", "WebSocket connections for this Host are not allowed"),
      );
    }
    const address = normalizeAddress(request.socket.remoteAddress);
    const limit = this.options.unauthenticatedLimit;
    if (limit && (this.unauthenticated.get(address) ?? 0) >= limit.perAddress) {
      return refuseUpgrade(
        socket,
        429,
        new GatewayError(
          "rate_limited",
          "too many connections from your network address are waiting to sign in; try again later",
        ),
      );
    }
    if (limit && this.unauthenticatedTotal >= limit.total) {
      return refuseUpgrade(
        socket,
        503,
        new GatewayError("unavailable", "too many connections are waiting to sign in; try again later"),
      );
    }
    const authenticated = this.countUnauthenticated(address);
    // However the socket ends (a failed handshake included), it stops counting.
    socket.once("close", authenticated);
    this.wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      if (this.closing) return ws.close(CLOSE.goingAway, "gateway shutting down");
      const budget = this.requestBudget(address);
      const hooks = {
        onAuthenticated: authenticated,
        ...(budget ? { requestBudget: budget } : {}),
        ...(this.socketChannel ? { socketChannel: this.socketChannel } : {}),
        devicePolicy: this.devicePolicy,
      };
      const connection = new ClientConnection({ ...this.ctx, logger }, ws, request, this.options, hooks);
      this.connections.add(connection);
      ws.once("close", () => this.connections.delete(connection));
    });
  }

  /** Counts one more unauthenticated socket of `address`; the returned function uncounts it (once, however often called). */
  private countUnauthenticated(address: string): () => void {
    if (!this.options.unauthenticatedLimit) return () => {};
    this.unauthenticated.set(address, (this.unauthenticated.get(address) ?? 0) + 1);
    this.unauthenticatedTotal += 1;
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      this.unauthenticatedTotal -= 1;
      const left = (this.unauthenticated.get(address) ?? 1) - 1;
      if (left <= 0) this.unauthenticated.delete(address);
      else this.unauthenticated.set(address, left);
    };
  }

  /** The store's budget of new webchat pairing requests for one network address (shared by every instance). */
  private requestBudget(address: string): NewRequestBudget | undefined {
    const limit = this.options.webchatRequestLimit;
    const budgets = this.ctx.budgets;
    if (!limit || !budgets) return undefined;
    const key = `webchat-requests:${address}`;
    return { take: () => budgets.take(key, limit), giveBack: () => budgets.giveBack(key, limit) };
  }

  get size(): number {
    return this.connections.size;
  }

  /** Closes every socket (1001) and waits for them to go, terminating stragglers after `graceMs`. */
  async close(graceMs = 2_000): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const [name, listener] of this.listeners) this.ctx.events.off(name, listener);
    const open = [...this.connections];
    await Promise.all(open.map((connection) => connection.shutdown(graceMs)));
    this.wss.close();
  }

  private beat(): void {
    for (const connection of this.connections) connection.heartbeat();
  }

  /**
   * Owner sockets hear of every approval request and decision; the socket of the agent that asked hears of its decision
   * (so it need not poll). Which agent asked is read from the store once, and only when such a socket is open.
   */
  private async onApprovalEvent(name: (typeof APPROVAL_EVENTS)[number], event: ApprovalEvent): Promise<void> {
    const askers = [...this.connections].filter(
      (c) => !c.isOwner && c.principal !== undefined && c.deviceId === undefined,
    );
    for (const connection of this.connections) if (connection.isOwner) connection.pushEvent(name, event);
    if (name !== "approval.decided" || askers.length === 0 || !this.ctx.approvals) return;
    const record = await this.ctx.approvals.get(event.id).catch(() => null);
    if (!record) return;
    for (const connection of askers)
      if (connection.principal?.userId === record.requester) connection.pushEvent(name, event);
  }

  private onPairingEvent(name: (typeof PAIRING_EVENTS)[number], event: AuditEvent): void {
    for (const connection of this.connections) if (connection.isOwner) connection.pushEvent(name, event);
  }
}

function refuseUpgrade(socket: Duplex, status: number, error: GatewayError): void {
  const body = JSON.stringify({ error: errorBody(error) });
  const reason = { 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests" }[status] ?? "Service Unavailable";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
