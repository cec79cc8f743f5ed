import { agentFailureOf } from "../agents/errors.js";
import { sessionKey } from "../gateway/admission.js";
import type { GatewayContext } from "../gateway/context.js";
import { withDeadline } from "../gateway/deadline.js";
import type { Principal } from "../protocols/types.js";
import type { ChannelAdapter, InboundMessage } from "./channel.js";
import type { RouterMessages } from "./messages.js";
import { errorName } from "./redact.js";

export interface AgentTurn {
  adapter: ChannelAdapter;
  message: InboundMessage;
  role: "owner" | "user";
  signal: AbortSignal;
  messages: RouterMessages;
  deadlineMs: number;
}

/**
 * One admitted message: find or bind the sender's own session (`<channelType>:<chatId>:<senderId>`), call the agent,
 * collect a streamed reply, and answer through the same adapter. A session store failure fails closed (no agent call).
 */
export async function runAgent(ctx: GatewayContext, turn: AgentTurn): Promise<void> {
  const { adapter, message } = turn;
  const channelType = adapter.channelType;
  const sessionId = sessionKey(channelType, message.chatId, message.sender.id);
  let principal: Principal;
  try {
    principal = await sessionPrincipal(ctx, sessionId, turn);
  } catch (error) {
    ctx.logger.warn("session store failed closed", { channelType, error: errorName(error) });
    return adapter.send(message.chatId, turn.messages.unavailable);
  }
  let reply: string;
  try {
    const answer = await ctx.agent(
      { text: message.text, sessionId, principal, channelType },
      { sessionId, principal, channelType, signal: turn.signal },
    );
    reply = typeof answer === "string" ? answer : await collect(answer, turn.signal);
  } catch (error) {
    if (turn.signal.aborted) return;
    ctx.logger.error("agent failed", { channelType, error: errorName(error) });
    return adapter.send(message.chatId, turn.messages.agentFailed(agentFailureOf(error)));
  }
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

async function collect(chunks: AsyncIterable<string>, signal: AbortSignal): Promise<string> {
  let text = "";
  for await (const chunk of chunks) {
    if (signal.aborted) break;
    text += chunk;
  }
  return text;
}
