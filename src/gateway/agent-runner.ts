import type { Principal } from "../protocols/types.js";
import type { GatewayContext } from "./context.js";
import { isPromiseLike } from "./promise-like.js";

export interface AgentTurn {
  text: string;
  sessionId: string;
  principal: Principal;
  channelType: string;
  signal: AbortSignal;
  /** Called with each chunk as it arrives (a whole reply is one chunk). */
  onDelta?: (chunk: string) => void;
}

/** Runs the agent for one message and returns the full reply, streaming chunks through onDelta. */
export async function runAgent(ctx: Pick<GatewayContext, "agent">, turn: AgentTurn): Promise<string> {
  const { text, sessionId, principal, channelType, signal } = turn;
  const produced = ctx.agent({ text, sessionId, principal, channelType }, { sessionId, principal, channelType, signal });
  // Await only what can be awaited: an agent that streams hands back its iterable at once.
  const reply = isPromiseLike(produced) ? await produced : produced;
  if (typeof reply === "string") {
    if (reply !== "") turn.onDelta?.(reply);
    return reply;
  }
  let full = "";
  for await (const chunk of reply) {
    if (signal.aborted) break;
    if (typeof chunk !== "string" || chunk === "") continue;
    full += chunk;
    turn.onDelta?.(chunk);
  }
  return full;
}

