import type { GatewayContext } from "../core/context.js";
import { withDeadline } from "../core/deadline.js";
import type { AuditEvent } from "../stores/types.js";
import type { ChannelAdapter, InboundMessage, SenderDecision } from "./channel.js";
import { groupChatOf } from "./group-chat.js";
import type { RouterMessages } from "./messages.js";
import { errorName } from "./redact.js";
import { NoticeClaims } from "./notice-claims.js";
import type { FirstSighting } from "./seen-once.js";
import type { SerialQueue } from "./serial.js";
import type { WindowClaims } from "./window-claims.js";

/** A channel that cannot log in or receive waits this long before it tells a decided sender, so a healthy instance goes first. */
const DEGRADED_GRACE_MS = 2_000;

/** What telling senders about decisions needs of its router (one started channel). */
export interface SenderDecisionDeps {
  ctx: GatewayContext;
  adapter: ChannelAdapter;
  /** The router's per-sender queue: a decision is told in order with the sender's messages. */
  queue: SerialQueue;
  messages: RouterMessages;
  deadlineMs: number;
  firstSighting: FirstSighting;
  /** Aborted when the channel stops: nothing more is told. */
  signal: AbortSignal;
  /** Released once a request is decided, so the sender's next request is announced (and reminded of) again. */
  ownerCards: WindowClaims;
  reminders: WindowClaims;
  /** Runs an approved sender's blocked first message as an admitted one; resolves once its turn is queued. */
  replay(message: InboundMessage): Promise<{ done: Promise<void> } | void>;
}

/**
 * Follows the gateway's pairing events for one channel: a decision made anywhere (button, CLI, HTTP, another instance)
 * reaches the sender here. Returns the unsubscribe function.
 */
export function followSenderDecisions(deps: SenderDecisionDeps): () => void {
  const { ctx, adapter } = deps;
  // Connection channels also show a request's expiry and a revoke on the sender's open connections.
  const decisions: SenderDecision[] = adapter.decided
    ? ["approved", "denied", "expired", "revoked"]
    : ["approved", "denied"];
  const notices = new NoticeClaims({
    ctx,
    channelType: adapter.channelType,
    firstSighting: deps.firstSighting,
    signal: deps.signal,
    requeue: (senderId, attempt) =>
      void deps.queue
        .run(senderId, attempt)
        .catch((error: unknown) => logFailure(deps, "could not tell the sender about the decision", error)),
  });
  const offs = decisions.map((decision) => {
    const listener = (event: AuditEvent): void => onDecision(deps, notices, event, decision);
    ctx.events.on(`pairing.${decision}`, listener);
    return () => ctx.events.off(`pairing.${decision}`, listener);
  });
  return () => {
    for (const off of offs) off();
  };
}

function onDecision(deps: SenderDecisionDeps, notices: NoticeClaims, event: AuditEvent, type: SenderDecision): void {
  const { adapter } = deps;
  if (event.channelType !== adapter.channelType || !event.channelId) return;
  if (adapter.decided) return onConnectionDecision(deps, event.channelId, type, adapter.decided.bind(adapter));
  if (event.kind === "invite" || (type !== "approved" && type !== "denied")) return;
  const senderId = event.channelId;
  const group = groupChatOf(senderId);
  if (group !== null) return onGroupDecision(deps, notices, event, senderId, group, type);
  void deps.queue
    .run(senderId, () => tellSender(deps, notices, event, senderId, type))
    .catch((error: unknown) => logFailure(deps, "could not tell the sender about the decision", error));
}

/** A chat sender hears "you're in" (and their blocked first message goes to the agent) or "denied", in their direct chat. */
async function tellSender(
  deps: SenderDecisionDeps,
  notices: NoticeClaims,
  event: AuditEvent,
  senderId: string,
  type: "approved" | "denied",
): Promise<void> {
  const { adapter, messages } = deps;
  if (!(await readyToTell(deps))) return;
  // Pending requests come from direct chats only (group messages go through group-chat.ts), so the sender's
  // direct chat is where they waited: any instance can name it, whichever one saw their message.
  const told = async (): Promise<void> => {
    await deps.ownerCards.release(senderId);
    const chatId = await adapter.directChatIdFor(senderId);
    await adapter.send(chatId, type === "denied" ? messages.denied() : messages.approved());
  };
  const replayed = async (): Promise<void> => {
    const firstMessage = typeof event.detail.firstMessage === "string" ? event.detail.firstMessage : "";
    if (firstMessage === "") return;
    const chatId = await adapter.directChatIdFor(senderId);
    const name = typeof event.detail.userName === "string" ? event.detail.userName : "";
    const message: InboundMessage = {
      channelType: adapter.channelType,
      chatId,
      sender: { id: senderId, name },
      text: firstMessage,
      isDirect: chatId === senderId,
    };
    // Re-check: a revoke racing the approval must win (and a check must never create a new request).
    const store = deps.ctx.pairing;
    const paired = await withDeadline(
      "pairing.isPaired",
      () => store.isPaired(senderId, adapter.channelType),
      deps.deadlineMs,
    );
    if (!paired) return;
    // The turn runs outside the sender's queue (see the router's onMessage), so it is not awaited here.
    const turn = await deps.replay(message);
    turn?.done.catch((error: unknown) => logFailure(deps, "inbound message failed", error));
  };
  await notices.tell(event, senderId, type === "denied" ? [told] : [told, replayed]);
}

/**
 * Whether this instance should try to tell a decision now. Every built-in channel sends through the platform's HTTP
 * API, which any instance can use (a Telegram or Discord connection lease only decides who receives), so any instance
 * may tell it (NoticeClaims decides which one, once); one whose channel is degraded (cannot log in, lost its
 * connection) lets a healthy instance go first by waiting DEGRADED_GRACE_MS, and still tells the sender when none did.
 */
async function readyToTell(deps: SenderDecisionDeps): Promise<boolean> {
  if (deps.adapter.health?.().status === "degraded")
    await new Promise((resolve) => setTimeout(resolve, DEGRADED_GRACE_MS));
  return !deps.signal.aborted;
}

/** A connection channel shows the decision on the sender's connections, in the order the decisions came. */
function onConnectionDecision(
  deps: SenderDecisionDeps,
  senderId: string,
  type: SenderDecision,
  decided: (senderId: string, type: SenderDecision) => Promise<void>,
): void {
  // Every instance tells the connections it holds (a sender's sockets may be open on several instances).
  void deps.queue
    .run(senderId, async () => {
      await decided(senderId, type);
      if (type !== "revoked") await deps.ownerCards.release(senderId);
    })
    .catch((error: unknown) => logFailure(deps, "could not tell the sender about the decision", error));
}

/** A group's request was decided: the group hears it (nothing is replayed: the first message was someone's, not the group's). */
function onGroupDecision(
  deps: SenderDecisionDeps,
  notices: NoticeClaims,
  event: AuditEvent,
  groupId: string,
  chatId: string,
  type: "approved" | "denied",
): void {
  const { adapter, messages } = deps;
  void deps.queue
    .run(groupId, async () => {
      if (!(await readyToTell(deps))) return;
      await notices.tell(event, groupId, [
        async () => {
          await deps.ownerCards.release(groupId);
          await deps.reminders.release(groupId);
          await adapter.send(chatId, type === "approved" ? messages.groupApproved : messages.groupDenied);
        },
      ]);
    })
    .catch((error: unknown) => logFailure(deps, "could not tell the group about the decision", error));
}

function logFailure(deps: SenderDecisionDeps, message: string, error: unknown): void {
  deps.ctx.logger.error(message, { channelType: deps.adapter.channelType, error: errorName(error) });
}
