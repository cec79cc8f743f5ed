import { admit, chatOwnerCheck, type AdmissionResult } from "../core/admission.js";
import type {
  ChannelHealth,
  ChannelHttpRoute,
  ChannelPlugin,
  GatewayContext,
  PolicyOptions,
  UnknownUserPolicy,
} from "../core/context.js";
import { STORE_DEADLINE_MS } from "../core/deadline.js";
import { buttonKey } from "../pairing/buttons.js";
import type { ButtonPress, ChannelAdapter, InboundMessage } from "./channel.js";
import { handleButtonPress } from "./button-press.js";
import { ActionCards } from "./action-cards.js";
import { DEFAULT_MESSAGES, type RouterMessages } from "./messages.js";
import { type CardInput, DEVICE_CARDS_EVENT, ownersReachable, sendApprovalCards } from "./owner-card.js";
import { redeemInvite, parsePairCommand } from "./pair-command.js";
import { claimOwnership, parseOwnerClaim } from "./owner-claim.js";
import { canHaveStoreOwners } from "../core/owners.js";
import { WEBCHAT_CHANNEL_TYPE } from "../core/identity-lists.js";
import { SerialQueue } from "./serial.js";
import { startAgentTurn, type StartedTurn } from "./agent-turn.js";
import type { ReplyMode } from "./reply-view.js";
import { errorName } from "./redact.js";
import { admitGroupMessage, type GroupDeps, type GroupPolicy } from "./group-chat.js";
import { firstSightingFor } from "./seen-once.js";
import { failClosed, NO_CLAIMS, windowClaims, type WindowClaims } from "./window-claims.js";
import { leasesFor } from "./leases.js";
import { announceNotice } from "./notice.js";
import { connectionHandlers } from "./connection-admission.js";
import { followSenderDecisions } from "./sender-decisions.js";

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

class ChannelRouter implements ChannelPlugin {
  readonly channelType: string;
  private ctx: GatewayContext | null = null;
  private key: Buffer = Buffer.alloc(0);
  private readonly now: () => number;
  private readonly deadlineMs: number;
  private readonly messages: RouterMessages;
  private readonly queue = new SerialQueue();
  /**
   * One owner card per sender a window, and one reminder or group hint per key a window, across every instance (fail
   * closed: a store that cannot answer counts as already claimed).
   */
  private ownerDms: WindowClaims = NO_CLAIMS;
  private reminders: WindowClaims = NO_CLAIMS;
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
      failClosed(
        windowClaims(context, purpose, this.channelType, windowMs, this.deadlineMs, this.now),
        context.logger,
        this.channelType,
      );
    this.ownerDms = claims("owner-card", this.options.ownerDmIntervalMs ?? HOUR);
    this.reminders = claims("reminder", this.options.reminderIntervalMs ?? 60_000);
    // Seen-once keys of this channel (platform event ids, decisions told), shared by every instance on the store.
    const firstSighting = firstSightingFor(context, this.channelType, this.deadlineMs, this.now);
    this.aborter = new AbortController();
    this.unsubscribe.push(
      followSenderDecisions({
        ctx: context,
        adapter: this.adapter,
        queue: this.queue,
        messages: this.messages,
        deadlineMs: this.deadlineMs,
        firstSighting,
        signal: this.aborter.signal,
        ownerCards: this.ownerDms,
        reminders: this.reminders,
        replay: (message) => this.act({ decision: "admitted", reason: "paired" }, message),
      }),
    );
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
    // A chat channel's owners also get the cards of webchat devices' requests (webchat has no owner inbox).
    if (this.adapter.decided === undefined) this.unsubscribe.push(this.followDeviceCards(context));
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
        connections: connectionHandlers(context, this.channelType, this.deadlineMs, (result, requester, text) =>
          this.announce(result, requester, text),
        ),
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
    let turn: StartedTurn | void;
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
      await this.reminders.claim(senderId);
      await this.adapter.send(message.chatId, this.messages.pendingNew(result.code));
      await this.announce(result, message.sender, message.text);
      return;
    }
    if (await this.reminders.claim(senderId))
      await this.adapter.send(message.chatId, this.messages.pendingRepeat(result.code));
  }

  private groupDeps(): GroupDeps {
    return {
      ctx: this.context(),
      adapter: this.adapter,
      messages: this.messages,
      deadlineMs: this.deadlineMs,
      policy: this.options.groupPolicy ?? "members",
      hint: (key) => this.reminders.claim(key),
      sendCards: (result, requester, text) => this.announce(result, requester, text),
    };
  }

  /** A new request: its owners get their Approve/Deny cards, once per requester a window across every instance. */
  private async announce(
    result: Extract<AdmissionResult, { decision: "pending" }>,
    requester: { id: string; name: string },
    firstMessage: string,
  ): Promise<void> {
    if (!(await this.ownerDms.claim(requester.id))) return;
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
    if (this.channelType === WEBCHAT_CHANNEL_TYPE) {
      // The chat channels' routers put a device's request before their owners (see followDeviceCards).
      this.context().events.emit(DEVICE_CARDS_EVENT, input);
      return;
    }
    await sendApprovalCards(this.context(), this.adapter, this.key, input, this.deadlineMs);
  }

  /** Sends this channel's owners the cards of webchat devices' new requests, signed for this channel. */
  private followDeviceCards(ctx: GatewayContext): () => void {
    const listener = (input: CardInput): void => {
      const card = { ...input, via: this.channelType };
      sendApprovalCards(ctx, this.adapter, this.key, card, this.deadlineMs).catch((error: unknown) =>
        ctx.logger.warn("could not send a webchat device's approval cards", {
          channelType: this.channelType,
          error: errorName(error),
        }),
      );
    };
    ctx.events.on(DEVICE_CARDS_EVENT, listener);
    return () => ctx.events.off(DEVICE_CARDS_EVENT, listener);
  }
}
