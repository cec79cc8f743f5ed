import type { GatewayContext } from "../core/context.js";
import type { ApprovalEvent } from "../stores/approvals.js";
import { actionCardFor, decisionLine } from "./action-card.js";
import type { ActionCard, ChannelAdapter, SentCard } from "./channel.js";
import { ownersReachable } from "./owner-card.js";
import { errorName } from "./redact.js";
import { BoundedMap } from "./serial.js";

/**
 * The action cards of one channel: when an agent asks (on any instance), each owner on this channel gets one card; of
 * several instances running this channel, the one that claims the request in the store sends them. When anyone decides
 * (a button here or on another channel, the console, the CLI, another instance, the expiry), the cards say who.
 */
export class ActionCards {
  private readonly sent = new BoundedMap<Array<{ sent: SentCard; card: ActionCard }>>(1_000);

  constructor(
    private readonly adapter: ChannelAdapter,
    private readonly ctx: () => GatewayContext,
    private readonly key: () => Buffer,
    private readonly now: () => number,
  ) {}

  /** Follows the gateway's approval events; returns the unsubscribe function. */
  follow(): () => void {
    const events = this.ctx().events;
    const onRequested = (event: ApprovalEvent): void =>
      void this.send(event.id).catch((error: unknown) => this.warn("could not send action cards", error));
    const onDecided = (event: ApprovalEvent): void =>
      void this.close(event.id).catch((error: unknown) => this.warn("could not update action cards", error));
    events.on("approval.requested", onRequested);
    events.on("approval.decided", onDecided);
    return () => {
      events.off("approval.requested", onRequested);
      events.off("approval.decided", onDecided);
    };
  }

  private async send(id: string): Promise<void> {
    const ctx = this.ctx();
    const sendCard = this.adapter.sendActionCard?.bind(this.adapter);
    const owners = await ownersReachable(ctx, this.adapter.channelType);
    if (!sendCard || !ctx.approvals || owners.length === 0) return;
    if (!(await ctx.approvals.store.claim(id, `cards:${this.adapter.channelType}`))) return;
    const record = await ctx.approvals.get(id);
    if (!record || record.status !== "pending") return;
    const cards: Array<{ sent: SentCard; card: ActionCard }> = [];
    this.sent.set(id, cards);
    for (const owner of owners) {
      const card = actionCardFor(this.key(), owner, this.adapter.channelType, record, this.now());
      try {
        cards.push({ sent: await sendCard(owner, card), card });
      } catch (error) {
        this.warn("could not send an action card to an owner", error);
      }
    }
    // Decided while the cards were going out: close them now, the decided event has passed.
    const after = await ctx.approvals.get(id);
    if (after && after.status !== "pending") await this.close(id);
  }

  private async close(id: string): Promise<void> {
    const cards = this.sent.get(id);
    const closeCard = this.adapter.closeActionCard?.bind(this.adapter);
    const approvals = this.ctx().approvals;
    if (!cards || !closeCard || !approvals) return;
    this.sent.delete(id);
    const record = await approvals.get(id);
    if (!record) return;
    const text = decisionLine(record);
    await Promise.all(
      cards.map(({ sent, card }) =>
        closeCard(sent, card, text, record.approver ?? undefined).catch((error: unknown) =>
          this.warn("could not update an action card", error),
        ),
      ),
    );
  }

  private warn(message: string, error: unknown): void {
    this.ctx().logger.warn(message, { channelType: this.adapter.channelType, error: errorName(error) });
  }
}
