import { performance } from "node:perf_hooks";
import { chatCommand, COMMAND_REPLIES } from "../conversation/commands.js";
import { TurnCancel } from "../conversation/turns.js";
import type { Principal } from "../protocols/types.js";
import type { GatewayContext } from "./context.js";
import { isPromiseLike } from "./promise-like.js";
import { requestApprovalInProcess, type ApprovalAsk, type ApprovalResult } from "./approvals/in-process.js";

export interface AgentTurn {
  text: string;
  sessionId: string;
  principal: Principal;
  channelType: string;
  signal: AbortSignal;
  /** Called with each chunk as it arrives (a whole reply is one chunk). */
  onDelta?: (chunk: string) => void;
}

/** What one message came to: the reply text, and whether it was cut short by `/stop` (or the client leaving). */
export interface TurnResult {
  text: string;
  stopped: boolean;
}

type RunContext = Pick<GatewayContext, "agent"> &
  Partial<Pick<GatewayContext, "logger" | "conversations" | "turns" | "approvals" | "metrics">>;

/**
 * Runs the agent for one message and returns the full reply, streaming chunks through onDelta. `/stop`, `/new` and
 * `/reset` are answered here without the agent. Turns of one session run one at a time (a message that comes while the
 * agent answers waits; TurnQueueFullError when too many wait). An agent that uses history gets the session's earlier
 * turns from the store, and the new turn is kept there once it is complete.
 */
export async function runAgent(ctx: RunContext, turn: AgentTurn): Promise<string> {
  return (await runTurn(ctx, turn)).text;
}

/** runAgent, also telling whether the turn was stopped. */
export function runTurn(ctx: RunContext, turn: AgentTurn): Promise<TurnResult> {
  // Not an async function: a message that is not a command hands back the turn's own promise, one layer less.
  const command = chatCommand(turn.text);
  if (command !== null) return commandTurn(ctx, command, turn);
  const { turns } = ctx;
  if (!turns) return answer(ctx, turn, new TurnCancel(turn.signal));
  return turns.run(turn.sessionId, turn.signal, (cancel) => answer(ctx, turn, cancel));
}

async function commandTurn(ctx: RunContext, command: "stop" | "new", turn: AgentTurn): Promise<TurnResult> {
  const text = await runCommand(ctx, command, turn);
  turn.onDelta?.(text);
  return { text, stopped: false };
}

async function runCommand(ctx: RunContext, command: "stop" | "new", turn: AgentTurn): Promise<string> {
  if (command === "stop")
    return ctx.turns?.stop(turn.sessionId) ? COMMAND_REPLIES.stopped : COMMAND_REPLIES.nothingToStop;
  ctx.turns?.stop(turn.sessionId);
  await ctx.conversations?.forget(turn.sessionId);
  return COMMAND_REPLIES.fresh;
}

/**
 * The agent's answer to one message, counted in the gateway's metrics when it has them: how long the agent took (not
 * the wait for the session's turn) and how it ended.
 */
async function answer(ctx: RunContext, turn: AgentTurn, cancel: TurnCancel): Promise<TurnResult> {
  const metrics = ctx.metrics;
  const started = metrics ? performance.now() : 0;
  let outcome: "ok" | "stopped" | "error" = "error";
  try {
    const { text, sessionId, principal, channelType } = turn;
    const memory = ctx.agent.usesHistory === true ? ctx.conversations : undefined;
    const owner = { userId: principal.userId, channelType };
    // A store that cannot be read fails the turn (the caller says the service is unavailable); it is never read as empty.
    const history = memory ? await memory.history(sessionId, owner) : undefined;
    const message =
      history === undefined
        ? { text, sessionId, principal, channelType }
        : { text, sessionId, principal, channelType, history };
    const requestApproval = (ask: ApprovalAsk): Promise<ApprovalResult> =>
      requestApprovalInProcess(ctx.approvals, { sessionId, principal, signal: cancel.signal }, ask);
    // The turn's AbortSignal is made only if the agent reads it.
    const agentContext = {
      sessionId,
      principal,
      channelType,
      requestApproval,
      get signal(): AbortSignal {
        return cancel.signal;
      },
    };
    const produced = ctx.agent(message, agentContext);
    // Await only what can be awaited: an agent that streams hands back its iterable at once.
    const reply = isPromiseLike(produced) ? await produced : produced;
    let full = "";
    if (typeof reply === "string") {
      full = reply;
      if (reply !== "") turn.onDelta?.(reply);
    } else {
      try {
        for await (const chunk of reply) {
          if (cancel.aborted) break;
          if (typeof chunk !== "string" || chunk === "") continue;
          full += chunk;
          turn.onDelta?.(chunk);
        }
      } catch (error) {
        // A stopped turn ends with what it had; the agent's own abort error is not a failure.
        if (!cancel.aborted) throw error;
      }
    }
    if (cancel.aborted) {
      outcome = "stopped";
      return { text: full, stopped: true };
    }
    if (memory && full !== "") {
      await memory.remember(sessionId, owner, text, full).catch((error: unknown) => {
        // The reply is still given; the log says why the turn was not kept (never the text).
        ctx.logger?.warn("conversation turn not kept", {
          channelType,
          error: error instanceof Error ? error.name : "unknown",
        });
      });
    }
    outcome = "ok";
    return { text: full, stopped: false };
  } finally {
    metrics?.agentTurn(turn.channelType, (performance.now() - started) / 1000, outcome);
  }
}
