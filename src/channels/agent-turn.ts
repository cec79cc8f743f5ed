import { agentFailureOf } from "../agents/errors.js";
import { sessionKey } from "../core/admission.js";
import type { GatewayContext } from "../core/context.js";
import { runTurn, type TurnResult } from "../core/agent-runner.js";
import { StoreDeadlineError, withDeadline } from "../core/deadline.js";
import { TurnQueueFullError } from "../conversation/turns.js";
import { StoreUnavailableError } from "../pairing/errors.js";
import type { Principal } from "../protocols/types.js";
import type { ChannelAdapter, InboundMessage } from "./channel.js";
import type { RouterMessages } from "./messages.js";
import { errorName } from "./redact.js";
import { ReplyView, type ReplyMode } from "./reply-view.js";

export interface AgentTurn {
  adapter: ChannelAdapter;
  message: InboundMessage;
  role: "owner" | "user";
  signal: AbortSignal;
  messages: RouterMessages;
  deadlineMs: number;
  /** How a platform that can stream shows the reply; default "edit". */
  replyMode?: ReplyMode;
}

/** An agent turn that has been queued for its session; `done` settles once the reply (or the failure) was sent. */
export interface StartedTurn {
  done: Promise<void>;
}

/**
 * One admitted message: find or bind the sender's own session (`<channelType>:<chatId>:<senderId>`) and queue the
 * agent turn for it. Resolves as soon as the turn is queued, so the sender's next message (`/stop`, or one that waits
 * its turn) is admitted while the agent answers. A session store failure fails closed (no agent call).
 */
export async function startAgentTurn(ctx: GatewayContext, turn: AgentTurn): Promise<StartedTurn> {
  const { adapter, message } = turn;
  const channelType = adapter.channelType;
  const sessionId = sessionKey(channelType, message.chatId, message.sender.id);
  let principal: Principal;
  try {
    principal = await sessionPrincipal(ctx, sessionId, turn);
  } catch (error) {
    ctx.logger.warn("session store failed closed", { channelType, error: errorName(error) });
    return { done: adapter.send(message.chatId, turn.messages.unavailable) };
  }
  const view = adapter.streaming
    ? new ReplyView(adapter.streaming, message.chatId, turn.replyMode ?? "edit", ctx.logger, channelType)
    : undefined;
  // runTurn queues the turn before its first await, so turns keep the order their messages were admitted in.
  const result = runTurn(ctx, {
    text: message.text,
    sessionId,
    principal,
    channelType,
    signal: turn.signal,
    onDelta: view?.push,
  });
  return { done: deliver(ctx, turn, result, view) };
}

async function deliver(
  ctx: GatewayContext,
  turn: AgentTurn,
  result: Promise<TurnResult>,
  view: ReplyView | undefined,
): Promise<void> {
  const { adapter, message } = turn;
  const channelType = adapter.channelType;
  let reply: string;
  view?.start();
  try {
    reply = (await result).text;
  } catch (error) {
    view?.abandon();
    if (error instanceof TurnQueueFullError) return adapter.send(message.chatId, turn.messages.busy);
    if (error instanceof StoreUnavailableError || error instanceof StoreDeadlineError) {
      ctx.logger.warn("conversation store failed closed", { channelType, error: errorName(error) });
      return adapter.send(message.chatId, turn.messages.unavailable);
    }
    if (turn.signal.aborted) return;
    ctx.logger.error("agent failed", { channelType, error: errorName(error) });
    return adapter.send(message.chatId, turn.messages.agentFailed(agentFailureOf(error)));
  }
  if (view) return view.finish(reply);
  if (reply.trim() !== "") await adapter.send(message.chatId, reply);
}

async function sessionPrincipal(ctx: GatewayContext, sessionId: string, turn: AgentTurn): Promise<Principal> {
  const sessions = ctx.sessions;
  const existing = await withDeadline("sessions.lookup", () => sessions.lookup(sessionId), turn.deadlineMs);
  const userId = turn.message.sender.id;
  if (existing && existing.userId === userId && existing.role === turn.role) return existing;
  const principal: Principal = {
    userId,
    role: turn.role,
    channelType: turn.adapter.channelType,
    name: turn.message.sender.name,
  };
  await withDeadline("sessions.bind", () => sessions.bind(sessionId, principal), turn.deadlineMs);
  return principal;
}
