import { ApprovalPoll } from "../../core/approval-poll.js";
import { GatewayError } from "../../core/errors.js";
import { WEBCHAT_CHANNEL_TYPE } from "../../core/identity-lists.js";
import type { DeviceLink, DeviceSession, SocketArrival } from "../../core/socket-channel.js";
import type { Principal } from "../../protocols/types.js";
import type {
  ApprovalRequest,
  ChannelAdapter,
  ChannelCapabilities,
  ChannelHandlers,
  SenderDecision,
} from "../channel.js";

export const WEBCHAT_CAPABILITIES: ChannelCapabilities = { buttons: false, groups: false, gatewayWebhook: false };

/** What each decision closes a socket with (approved lets it in instead). */
const ENDINGS = {
  denied: { waiting: true, message: "your pairing request was denied" },
  expired: { waiting: true, message: "your pairing request expired" },
  revoked: { waiting: false, message: "this device's pairing was revoked" },
} as const;

/**
 * Webchat: people in a browser (or any WebSocket client) who connect to the gateway's `/ws` with a device id instead of
 * a token. The gateway's WebSocket transport hands each such connect over (`connect`); the router admits the device
 * (`admit`, the pairing code, owner cards), and every decision made anywhere comes back through the router
 * (`decided`) to the device's open sockets. A device is a `user` of channel type `webchat`, never an owner; its
 * replies go out on the WebSocket request that asked (`chat.send`), so the router's text replies are not used.
 */
export class WebchatAdapter implements ChannelAdapter {
  readonly channelType = WEBCHAT_CHANNEL_TYPE;
  readonly capabilities = WEBCHAT_CAPABILITIES;
  private handlers: ChannelHandlers | null = null;
  /** Every open socket of each device on this instance. */
  private readonly sockets = new Map<string, Set<DeviceLink>>();
  /** A store that cannot push decisions is asked, now and then, about the devices waiting for approval. */
  private readonly poll = new ApprovalPoll(() => this.waiting());

  async start(handlers: ChannelHandlers): Promise<void> {
    this.handlers = handlers;
    if (!handlers.connections.decisionsArePushed) this.poll.start();
  }

  async stop(): Promise<void> {
    this.poll.stop();
    this.handlers = null;
  }

  /** The router's text replies have no place on a webchat socket: its answers are frames of the request that asked. */
  async send(): Promise<void> {
    throw new Error("webchat replies go out on the WebSocket request that asked");
  }

  /** Webchat has no owner inbox (a device is never an owner): owners decide in the console, the CLI or their own chat. */
  async sendApprovalCard(_ownerId: string, _request: ApprovalRequest): Promise<void> {
    throw new Error("webchat cannot show owner cards");
  }

  directChatIdFor(userId: string): string {
    return userId;
  }

  /** A token-less connect: admission, then hello, the pairing code or a refusal on the socket. */
  async connect(arrival: SocketArrival, link: DeviceLink): Promise<DeviceSession> {
    const { connections } = this.started();
    const { deviceId } = arrival;
    const principal: Principal = { userId: deviceId, role: "user", channelType: WEBCHAT_CHANNEL_TYPE };
    const readmit = connections.readmitter(deviceId);
    const session: DeviceSession = {
      principal,
      // Before every request: a promise chain rather than an async function, one promise fewer per message.
      stillAdmitted: () => {
        try {
          this.started();
          return readmit();
        } catch (error) {
          return Promise.reject(error);
        }
      },
      closed: () => this.forget(deviceId, link),
    };
    this.remember(deviceId, link);
    const budget = arrival.requestBudget ? { newRequestBudget: arrival.requestBudget } : {};
    const result = await connections.arrive(
      { id: deviceId, ...(arrival.name !== undefined ? { name: arrival.name } : {}) },
      budget,
    );
    switch (result.decision) {
      case "admitted":
        await link.letIn(principal);
        return session;
      case "denied":
        link.refuse("policy", result.message);
        return session;
      case "unavailable":
        link.refuse("unavailable", result.message);
        return session;
      case "pending":
        break;
    }
    link.awaitApproval(result.code, result.expiresAt);
    // An approval that landed between the admission check and now has already been announced: look once more, with
    // isPaired only (asking for a code again would make a store that mints one per call show two for this device).
    await this.checkApproval(deviceId, link);
    return session;
  }

  /** A decision made anywhere, through the router: let the device's waiting sockets in, or close them. */
  async decided(deviceId: string, decision: SenderDecision): Promise<void> {
    const links = [...(this.sockets.get(deviceId) ?? [])];
    if (decision === "approved") {
      const principal: Principal = { userId: deviceId, role: "user", channelType: WEBCHAT_CHANNEL_TYPE };
      await Promise.all(links.filter((link) => link.isAwaitingApproval).map((link) => link.approve(principal)));
      return;
    }
    const ending = ENDINGS[decision];
    for (const link of links) {
      if (link.isAwaitingApproval || (!ending.waiting && link.isReady)) link.refuse("forbidden", ending.message);
    }
  }

  /** Decisions may have been missed: every waiting device looks its approval up in the store. */
  resynced(): void {
    for (const waiting of this.waiting()) void waiting.checkApproval();
  }

  /** While a device waits: asks the store whether it is paired now and lets it in if so (fail closed). */
  private async checkApproval(deviceId: string, link: DeviceLink): Promise<void> {
    if (!link.isAwaitingApproval) return;
    try {
      if (await this.started().connections.isPaired(deviceId)) {
        await link.approve({ userId: deviceId, role: "user", channelType: WEBCHAT_CHANNEL_TYPE });
      }
    } catch (error) {
      // The store is down or slow: keep waiting (the next check or event may succeed); nothing is let in.
      this.started().logger.warn("approval check failed; still waiting", {
        error: error instanceof Error ? error.name : "unknown",
      });
    }
  }

  private *waiting(): Iterable<{ checkApproval(): Promise<void> }> {
    for (const [deviceId, links] of this.sockets) {
      for (const link of links)
        if (link.isAwaitingApproval) yield { checkApproval: () => this.checkApproval(deviceId, link) };
    }
  }

  private remember(deviceId: string, link: DeviceLink): void {
    const links = this.sockets.get(deviceId) ?? new Set<DeviceLink>();
    links.add(link);
    this.sockets.set(deviceId, links);
  }

  private forget(deviceId: string, link: DeviceLink): void {
    const links = this.sockets.get(deviceId);
    if (!links) return;
    links.delete(link);
    if (links.size === 0) this.sockets.delete(deviceId);
  }

  private started(): ChannelHandlers {
    if (!this.handlers) throw new GatewayError("unavailable", "the webchat channel is not started");
    return this.handlers;
  }
}
