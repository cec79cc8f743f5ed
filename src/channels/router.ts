import { admit, chatOwnerCheck, type AdmissionResult } from "../core/admission.js";
import type {
  ChannelHealth,
  ChannelHttpRoute,
  ChannelPlugin,
  GatewayContext,
  PolicyOptions,
  UnknownUserPolicy,
} from "../core/context.js";
import { STORE_DEADLINE_MS, withDeadline } from "../core/deadline.js";
import { buttonKey } from "../pairing/buttons.js";
import type { AuditEvent } from "../stores/types.js";
import type { ButtonPress, ChannelAdapter, ConnectionHandlers, InboundMessage, SenderDecision } from "./channel.js";
import { handleButtonPress } from "./button-press.js";
import { ActionCards } from "./action-cards.js";
import { DEFAULT_MESSAGES, type RouterMessages } from "./messages.js";
import { approvalCardFor, ownersReachable } from "./owner-card.js";
import { redeemInvite, parsePairCommand } from "./pair-command.js";
import { claimOwnership, parseOwnerClaim } from "./owner-claim.js";
import { canHaveStoreOwners } from "../core/owners.js";
import { SerialQueue } from "./serial.js";
import { startAgentTurn, type StartedTurn } from "./agent-turn.js";
import type { ReplyMode } from "./reply-view.js";
import { errorName } from "./redact.js";
import { admitGroupMessage, groupChatOf, type GroupDeps, type GroupPolicy } from "./group-chat.js";
import { firstSightingFor, type FirstSighting } from "./seen-once.js";
import { windowClaims, type WindowClaims } from "./window-claims.js";
import { leasesFor } from "./leases.js";
import { announceNotice } from "./notice.js";
import { isPairedForAdmission } from "../core/paired-batch.js";

export interface ChannelRouterOptions {
  /** Clock for button expiry and the DM/reminder windows. */
  now?: () => number;
  /** At most one owner DM per sender in this window. Default one hour. */
  ownerDmIntervalMs?: number;
  /** A waiting sender is reminded of their code at most once in this window. Default one minute. */
  reminderIntervalMs?: number;
  /** Deadline for each store call. Default 2 s. */
  deadlineMs?: number;
  messages?: Partial<RouterMessages>;
  /** Owners on this channel only (plain platform ids), added to the gateway's ownerUserIds as `<channelType>:<id>`. */
  ownerUserIds?: string[];
  /** Senders always admitted on this channel only (plain platform ids). */
  allowedUsers?: string[];
  /** Whether members of an approved group must each be paired too ("members", default) or not ("group"). */
  groupPolicy?: GroupPolicy;
  /** This channel's policy for unknown senders; default: the gateway's. */
  unknownUserPolicy?: UnknownUserPolicy;
  /** On a platform that can stream: "edit" one message as the reply arrives (default), or "final" (send it complete). */
  replyMode?: ReplyMode;
}

/** Wraps a chat adapter as a gateway ChannelPlugin that runs admission, pairing, buttons and the agent for it. */
export function channelPlugin(adapter: ChannelAdapter, options: ChannelRouterOptions = {}): ChannelPlugin {
  return new ChannelRouter(adapter, options);
}

const HOUR = 60 * 60_000;
/** How long a decision's event id is remembered, so a feed that hands it out again (a resync) tells nobody twice. */
const DECISION_MEMORY_MS = 24 * HOUR;
/** A channel that cannot log in or receive waits this long before it tells a decided sender, so a healthy instance goes first. */
const DEGRADED_GRACE_MS = 2_000;

class ChannelRouter implements ChannelPlugin {
  readonly channelType: string;
  private ctx: GatewayContext | null = null;
  private key: Buffer = Buffer.alloc(0);
  private readonly now: () => number;
  private readonly deadlineMs: number;
  private readonly messages: RouterMessages;
  private readonly queue = new SerialQueue();
  /** One owner card per sender a window, and one reminder or group hint per key a window, across every instance. */
  private ownerDms: WindowClaims | null = null;
  private reminders: WindowClaims | null = null;
  /** Seen-once keys of this channel (platform event ids, decisions told), shared by every instance on the store. */
  private firstSighting: FirstSighting | null = null;
  private aborter = new AbortController();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly adapter: ChannelAdapter,
    private readonly options: ChannelRouterOptions,
  ) {
    this.channelType = adapter.channelType;
    this.now = options.now ?? Date.now;
    this.deadlineMs = options.deadlineMs ?? STORE_DEADLINE_MS;
    this.messages = { ...DEFAULT_MESSAGES, ...options.messages };
  }

  async start(gatewayContext: GatewayContext): Promise<void> {
    const policy = this.channelPolicy(gatewayContext.policy);
    const context: GatewayContext = {
      ...gatewayContext,
      policy,
      isOwner: (channelType, userId) => chatOwnerCheck(context)(channelType, userId),
    };
    this.ctx = context;
    this.key = buttonKey(context.secret);
    const claims = (purpose: string, windowMs: number): WindowClaims =>
      windowClaims(context, purpose, this.channelType, windowMs, this.deadlineMs, this.now);
    this.ownerDms = claims("owner-card", this.options.ownerDmIntervalMs ?? HOUR);
    this.reminders = claims("reminder", this.options.reminderIntervalMs ?? 60_000);
    const firstSighting = firstSightingFor(context, this.channelType, this.deadlineMs, this.now);
    this.firstSighting = firstSighting;
    this.aborter = new AbortController();
    // Connection channels also show a request's expiry and a revoke on the sender's open connections.
    const decisions: SenderDecision[] = this.adapter.decided
      ? ["approved", "denied", "expired", "revoked"]
      : ["approved", "denied"];
    for (const decision of decisions) {
      const listener = (event: AuditEvent): void => this.onDecision(event, decision);
      context.events.on(`pairing.${decision}`, listener);
      this.unsubscribe.push(() => context.events.off(`pairing.${decision}`, listener));
    }
    const onResync = (): void => this.adapter.resynced?.();
    context.events.on("store.resync", onResync);
    this.unsubscribe.push(() => context.events.off("store.resync", onResync));
    this.unsubscribe.push(
      new ActionCards(
        this.adapter,
        () => this.context(),
        () => this.key,
        this.now,
      ).follow(),
    );
    // A connection channel's owners approve in the console or the CLI (it has no owner chat to warn about).
    const cardsExpected = this.adapter.decided === undefined;
    if (
      cardsExpected &&
      context.policy.unknownUserPolicy === "pair" &&
      (await ownersReachable(context, this.channelType, this.deadlineMs)).length === 0
    ) {
      context.logger.warn(
        "no owner for this channel yet: approval cards cannot be sent; claim it (gatehouse owner claim) or approve from the CLI",
        {
          channelType: this.channelType,
        },
      );
    }
    try {
      await this.adapter.start({
        logger: context.logger,
        onMessage: (message) => this.onMessage(message),
        onButton: (press) => this.onButton(press),
        notice: (message, fields) => {
          context.logger.warn(message, { ...fields, channelType: this.channelType });
          announceNotice(context, { ...fields, message, channelType: this.channelType });
        },
        firstSighting,
        lease: (name, fields) => leasesFor(context).keeper(name, { channelType: this.channelType, ...fields }),
        connections: this.connectionHandlers(context),
      });
    } catch (error) {
      for (const off of this.unsubscribe.splice(0)) off();
      throw error;
    }
  }

  health(): ChannelHealth {
    return this.adapter.health?.() ?? { status: "ok" };
  }

  /** The adapter's webhook routes, for the gateway's HTTP server. */
  get httpRoutes(): readonly ChannelHttpRoute[] | undefined {
    return this.adapter.capabilities.gatewayWebhook ? this.adapter.httpRoutes : undefined;
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    this.aborter.abort();
    await this.adapter.stop();
  }

  /** The gateway's policy plus this channel's own owners, allowlist and unknown-sender policy (for this channel type only). */
  private channelPolicy(policy: PolicyOptions): PolicyOptions {
    const qualify = (ids: string[] | undefined): string[] => (ids ?? []).map((id) => `${this.channelType}:${id}`);
    return {
      unknownUserPolicy: this.options.unknownUserPolicy ?? policy.unknownUserPolicy,
      ownerUserIds: [...policy.ownerUserIds, ...qualify(this.options.ownerUserIds)],
      allowedUsers: [...policy.allowedUsers, ...qualify(this.options.allowedUsers)],
    };
  }

  private context(): GatewayContext {
    if (!this.ctx) throw new Error(`channel ${this.channelType} is not started`);
    return this.ctx;
  }

  /**
   * A sender's messages are admitted one after another; an admitted one's agent turn then runs outside this queue (one
   * turn at a time per session, in ctx.turns), so `/stop` and the next message are admitted while the agent answers.
   */
  private onMessage(message: InboundMessage): Promise<void> {
    let turn: StartedTurn | void = undefined;
    const fail = (error: unknown): void => {
      this.context().logger.error("inbound message failed", { channelType: this.channelType, error: errorName(error) });
    };
    return this.queue
      .run(message.sender.id, async () => {
        turn = await this.handleMessage(message);
      })
      .then(() => (turn as StartedTurn | undefined)?.done)
      .catch(fail);
  }

  private async onButton(press: ButtonPress): Promise<void> {
    const ctx = this.context();
    try {
      await handleButtonPress(
        {
          ctx,
          adapter: this.adapter,
          key: this.key,
          messages: this.messages,
          now: this.now,
          deadlineMs: this.deadlineMs,
        },
        press,
      );
    } catch (error) {
      ctx.logger.error("button press failed", { channelType: this.channelType, error: errorName(error) });
      await press.answer(this.messages.buttonFailed).catch(() => undefined);
    }
  }

  private async handleMessage(message: InboundMessage): Promise<StartedTurn | void> {
    const ctx = this.context();
    if (message.text.trim() === "") return;
    if (!message.isDirect && this.adapter.capabilities.groups) {
      const admitted = await admitGroupMessage(this.groupDeps(), message);
      return admitted ? this.act(admitted, message) : undefined;
    }
    const sender = { ...message.sender };
    const claim = canHaveStoreOwners(this.channelType) ? parseOwnerClaim(message.text) : null;
    // Only in a direct chat: a code posted where others read it is not taken (it stays valid for its 10 minutes).
    if (claim !== null && message.isDirect) {
      const reply = await claimOwnership(ctx, this.channelType, sender, claim, this.messages, this.deadlineMs);
      if (reply !== null) return this.adapter.send(message.chatId, reply);
    }
    const pair = parsePairCommand(message.text);
    if (pair !== null) {
      const reply = await redeemInvite(ctx, this.channelType, sender, pair, this.messages, this.deadlineMs);
      return this.adapter.send(message.chatId, reply);
    }
    const result = await admit(
      ctx,
      {
        channelType: this.channelType,
        senderId: sender.id,
        userName: sender.name,
        text: message.text,
      },
      { deadlineMs: this.deadlineMs },
    );
    return this.act(result, message);
  }

  private async act(result: AdmissionResult, message: InboundMessage): Promise<StartedTurn | void> {
    const ctx = this.context();
    switch (result.decision) {
      case "admitted":
        return startAgentTurn(ctx, {
          adapter: this.adapter,
          message,
          role: result.reason === "owner" ? "owner" : "user",
          signal: this.aborter.signal,
          messages: this.messages,
          deadlineMs: this.deadlineMs,
          ...(this.options.replyMode ? { replyMode: this.options.replyMode } : {}),
        });
      case "pending":
        return this.onPending(result, message);
      case "denied":
        // Policy "deny" drops unknown senders silently (DESIGN.md); cooldowns and limits are explained.
        if (result.reason === "policy-deny") return;
        return this.adapter.send(message.chatId, result.message);
      case "unavailable":
        return this.adapter.send(message.chatId, result.message);
    }
  }

  private async onPending(
    result: Extract<AdmissionResult, { decision: "pending" }>,
    message: InboundMessage,
  ): Promise<void> {
    const senderId = message.sender.id;
    if (result.isNew) {
      await this.claimed(this.reminders, senderId);
      await this.adapter.send(message.chatId, this.messages.pendingNew(result.code));
      if (await this.claimed(this.ownerDms, senderId)) await this.sendCards(result, message.sender, message.text);
      return;
    }
    if (await this.claimed(this.reminders, senderId))
      await this.adapter.send(message.chatId, this.messages.pendingRepeat(result.code));
  }

  /**
   * Claims `key` in the store's window (see window-claims.ts). A store that cannot answer counts as "already claimed":
   * a limit that cannot be checked sends nothing (fail closed), and says so in the log.
   */
  private async claimed(claims: WindowClaims | null, key: string): Promise<boolean> {
    if (!claims) return false;
    try {
      return await claims.claim(key);
    } catch (error) {
      this.context().logger.warn("a send limit could not be checked in the store: nothing sent", {
        channelType: this.channelType,
        error: errorName(error),
      });
      return false;
    }
  }

  /** Makes `key` claimable again (its request was decided); a store failure only leaves the window to run out. */
  private async release(claims: WindowClaims | null, key: string): Promise<void> {
    await claims?.release(key).catch((error: unknown) => {
      this.context().logger.warn("a send limit could not be reset in the store", {
        channelType: this.channelType,
        error: errorName(error),
      });
    });
  }

  private groupDeps(): GroupDeps {
    return {
      ctx: this.context(),
      adapter: this.adapter,
      messages: this.messages,
      deadlineMs: this.deadlineMs,
      policy: this.options.groupPolicy ?? "members",
      hint: (key) => this.claimed(this.reminders, key),
      sendCards: async (result, requester, text) => {
        if (await this.claimed(this.ownerDms, requester.id)) await this.sendCards(result, requester, text);
      },
    };
  }

  private async sendCards(
    result: Extract<AdmissionResult, { decision: "pending" }>,
    requester: { id: string; name: string },
    firstMessage: string,
  ): Promise<void> {
    const ctx = this.context();
    const now = this.now();
    const input = {
      channelType: this.channelType,
      code: result.code,
      senderId: requester.id,
      senderName: requester.name,
      firstMessage,
      expiresAt: result.expiresAt ?? now + HOUR,
      now,
    };
    for (const ownerId of await ownersReachable(ctx, this.channelType, this.deadlineMs)) {
      try {
        await this.adapter.sendApprovalCard(ownerId, approvalCardFor(this.key, ownerId, input));
      } catch (error) {
        ctx.logger.warn("could not send the approval card to an owner", {
          channelType: this.channelType,
          error: errorName(error),
        });
      }
    }
  }

  /** Admission for senders who connect (webchat): the same `admit`, code and owner cards as a chat message. */
  private connectionHandlers(ctx: GatewayContext): ConnectionHandlers {
    const channelType = this.channelType;
    const deadlineMs = this.deadlineMs;
    return {
      arrive: async (sender, options = {}) => {
        const result = await admit(
          ctx,
          { channelType, senderId: sender.id, userName: sender.name },
          { deadlineMs, ...options },
        );
        if (result.decision === "pending" && result.isNew) {
          // The device sees its code at once; the owners' cards follow (once per window across instances).
          const cards = async (): Promise<void> => {
            if (await this.claimed(this.ownerDms, sender.id))
              await this.sendCards(result, { id: sender.id, name: sender.name ?? "" }, "");
          };
          void cards().catch((error: unknown) =>
            ctx.logger.warn("could not send the approval cards", { channelType, error: errorName(error) }),
          );
        }
        return result;
      },
      recheck: (senderId) => admit(ctx, { channelType, senderId }, { deadlineMs }),
      isPaired: (senderId) =>
        withDeadline("pairing.isPaired", () => isPairedForAdmission(ctx.pairing, senderId, channelType), deadlineMs),
      decisionsArePushed: typeof ctx.pairing.subscribe === "function",
    };
  }

  /**
   * Whether this instance is the one to tell the sender about a decision. Every instance hears each decision from the
   * store's feed; the first to record its event id in the store's seen-once keys tells the sender, the others stay quiet,
   * so "you're in" and the replay of the first message happen once across instances. Every built-in channel sends
   * through the platform's HTTP API, which any instance can use (a Telegram or Discord connection lease only decides who
   * receives), so any instance may win; one whose channel is degraded (cannot log in, lost its connection) lets a
   * healthy instance go first by waiting DEGRADED_GRACE_MS, and still tells the sender when none did. A winner that
   * then fails to send logs it: a notice is sent at most once, never twice. A store that cannot answer tells nobody.
   */
  private async tellsDecision(event: AuditEvent): Promise<boolean> {
    if (this.adapter.health?.().status === "degraded")
      await new Promise((resolve) => setTimeout(resolve, DEGRADED_GRACE_MS));
    const firstSighting = this.firstSighting;
    if (!firstSighting || this.aborter.signal.aborted) return false;
    try {
      const first = await firstSighting(`decision:${event.id}`, DECISION_MEMORY_MS);
      if (!first)
        this.context().logger.info("decision already told by another instance", {
          channelType: this.channelType,
          eventId: event.id,
        });
      return first;
    } catch (error) {
      this.context().logger.warn(
        "could not tell whether another instance told the sender about a decision: nothing sent",
        {
          channelType: this.channelType,
          error: errorName(error),
        },
      );
      return false;
    }
  }

  /** A decision made anywhere (button, CLI, HTTP, another instance) reaches the sender here. */
  private onDecision(event: AuditEvent, type: SenderDecision): void {
    if (event.channelType !== this.channelType || !event.channelId) return;
    if (this.adapter.decided)
      return this.onConnectionDecision(event.channelId, type, this.adapter.decided.bind(this.adapter));
    if (event.kind === "invite" || (type !== "approved" && type !== "denied")) return;
    const senderId = event.channelId;
    const group = groupChatOf(senderId);
    if (group !== null) return this.onGroupDecision(event, senderId, group, type);
    void this.queue
      .run(senderId, async () => {
        if (!(await this.tellsDecision(event))) return;
        await this.release(this.ownerDms, senderId);
        // Pending requests come from direct chats only (group messages go through group-chat.ts), so the sender's
        // direct chat is where they waited: any instance can name it, whichever one saw their message.
        const chatId = await this.adapter.directChatIdFor(senderId);
        if (type === "denied") return this.adapter.send(chatId, this.messages.denied());
        await this.adapter.send(chatId, this.messages.approved());
        const firstMessage = typeof event.detail.firstMessage === "string" ? event.detail.firstMessage : "";
        if (firstMessage === "") return;
        const name = typeof event.detail.userName === "string" ? event.detail.userName : "";
        const message: InboundMessage = {
          channelType: this.channelType,
          chatId,
          sender: { id: senderId, name },
          text: firstMessage,
          isDirect: chatId === senderId,
        };
        // Re-check: a revoke racing the approval must win (and a check must never create a new request).
        const store = this.context().pairing;
        const paired = await withDeadline(
          "pairing.isPaired",
          () => store.isPaired(senderId, this.channelType),
          this.deadlineMs,
        );
        if (!paired) return;
        // The turn runs outside the sender's queue (see onMessage), so it is not awaited here.
        const turn = await this.act({ decision: "admitted", reason: "paired" }, message);
        turn?.done.catch((error: unknown) => {
          this.context().logger.error("inbound message failed", {
            channelType: this.channelType,
            error: errorName(error),
          });
        });
      })
      .catch((error: unknown) => {
        this.context().logger.error("could not tell the sender about the decision", {
          channelType: this.channelType,
          error: errorName(error),
        });
      });
  }

  /** A connection channel shows the decision on the sender's connections, in the order the decisions came. */
  private onConnectionDecision(
    senderId: string,
    type: SenderDecision,
    decided: (senderId: string, type: SenderDecision) => Promise<void>,
  ): void {
    // Every instance tells the connections it holds (a sender's sockets may be open on several instances).
    void this.queue
      .run(senderId, async () => {
        await decided(senderId, type);
        if (type !== "revoked") await this.release(this.ownerDms, senderId);
      })
      .catch((error: unknown) => {
        this.context().logger.error("could not tell the sender about the decision", {
          channelType: this.channelType,
          error: errorName(error),
        });
      });
  }

  /** A group's request was decided: the group hears it (nothing is replayed: the first message was someone's, not the group's). */
  private onGroupDecision(event: AuditEvent, groupId: string, chatId: string, type: "approved" | "denied"): void {
    void this.queue
      .run(groupId, async () => {
        if (!(await this.tellsDecision(event))) return;
        await this.release(this.ownerDms, groupId);
        await this.release(this.reminders, groupId);
        await this.adapter.send(chatId, type === "approved" ? this.messages.groupApproved : this.messages.groupDenied);
      })
      .catch((error: unknown) => {
        this.context().logger.error("could not tell the group about the decision", {
          channelType: this.channelType,
          error: errorName(error),
        });
      });
  }
}
