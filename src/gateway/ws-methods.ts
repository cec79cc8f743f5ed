import { AGENT_FAILURE_MESSAGES, AgentError, agentFailureOf } from "../agents/errors.js";
import { StoreUnavailableError } from "../pairing/errors.js";
import { StoreDeadlineError } from "../core/deadline.js";
import { COMMAND_REPLIES } from "../conversation/commands.js";
import { TurnQueueFullError } from "../conversation/turns.js";
import type { Principal } from "../protocols/types.js";
import { runTurn } from "../core/agent-runner.js";
import type { OwnerActor } from "../core/admission.js";
import type { GatewayContext } from "../core/context.js";
import { fromZodError, GatewayError } from "../core/errors.js";
import { fastChatSendText } from "./fast-frames.js";
import { AGENT_ROLE, WEBCHAT_CHANNEL_TYPE } from "../core/identity-lists.js";
import { createApproval, decideApproval, listApprovals, readApproval } from "./approvals/actions.js";
import { approvePairing, denyPairing, listPaired, listPending, revokePairing } from "../core/pairing-actions.js";
import { chatSendInput, listInput, type RequestFrame } from "../core/schemas.js";

/** What a method handler may use of its connection. */
export interface MethodCaller {
  readonly ctx: GatewayContext;
  readonly principal: Principal | undefined;
  readonly sessionId: string | undefined;
  readonly deviceId: string | undefined;
  readonly signal: AbortSignal;
  send(frame: Record<string, unknown>): void;
  /** Sends a frame already serialised as JSON. */
  sendJson(json: string): void;
}

interface Session {
  principal: Principal;
  sessionId: string;
}

type Handler = (caller: MethodCaller, session: Session, frame: RequestFrame) => Promise<unknown>;

const principalOf = (caller: MethodCaller, session: Session): Principal =>
  caller.deviceId === undefined
    ? session.principal
    : // A webchat device never holds owner rights, whatever its id.
      { userId: session.principal.userId, role: "user" };

const actorOf = (caller: MethodCaller, session: Session): OwnerActor => ({
  kind: "principal",
  principal: principalOf(caller, session),
});

function chatSendText(params: unknown): string {
  const parsed = chatSendInput.safeParse(params ?? {});
  if (!parsed.success) throw fromZodError(parsed.error, "params");
  return parsed.data.text;
}

/**
 * An agent's reply as `{"type":"event","event":"chat.delta","payload":{"id","text"}}` events. Chunks that arrive in the
 * same tick are joined into one event, sent when the tick's work is done (or by `flush()`, before the final `res`):
 * an agent that hands over several words at once costs one frame, while one that waits between chunks still streams
 * each as it comes. The part every event of the request shares (with its id) is serialised once.
 */
class DeltaStream {
  private readonly head: string;
  private pending = "";
  private queued = false;

  constructor(
    private readonly caller: MethodCaller,
    id: string | number,
  ) {
    this.head = `{"type":"event","event":"chat.delta","payload":{"id":${JSON.stringify(id)},"text":`;
  }

  readonly push = (chunk: string): void => {
    this.pending += chunk;
    if (this.queued) return;
    this.queued = true;
    process.nextTick(flushDeltas, this);
  };

  flush(): void {
    this.queued = false;
    if (this.pending === "") return;
    const text = this.pending;
    this.pending = "";
    this.caller.sendJson(`${this.head}${JSON.stringify(text)}}}`);
  }
}

const flushDeltas = (deltas: DeltaStream): void => deltas.flush();

const METHODS: Record<string, Handler> = {
  "chat.send": async (caller, session, frame) => {
    const input = fastChatSendText(frame.params) ?? chatSendText(frame.params);
    const deltas = new DeltaStream(caller, frame.id);
    try {
      const { text } = await runTurn(caller.ctx, {
        text: input,
        sessionId: session.sessionId,
        principal: session.principal,
        channelType: caller.deviceId === undefined ? "ws" : WEBCHAT_CHANNEL_TYPE,
        signal: caller.signal,
        onDelta: deltas.push,
      });
      return { text };
    } catch (error) {
      if (error instanceof TurnQueueFullError) throw new GatewayError("rate_limited", COMMAND_REPLIES.busy);
      // The conversation store could not be read: the client is told the service is unavailable (fail closed).
      if (error instanceof StoreUnavailableError || error instanceof StoreDeadlineError) throw error;
      // An AgentError's message is written to be logged (status, type, code); anything else logs only its name.
      caller.ctx.logger.error("agent failed", {
        error: error instanceof AgentError ? error.message : error instanceof Error ? error.name : "unknown",
      });
      throw new GatewayError("agent_error", AGENT_FAILURE_MESSAGES[agentFailureOf(error)]);
    } finally {
      // What the agent produced goes out before the res (or the error) that ends the request.
      deltas.flush();
    }
  },
  "session.whoami": async (_caller, session) => ({
    sessionId: session.sessionId,
    principal: { userId: session.principal.userId, role: session.principal.role },
  }),
  "pairing.list": async (caller, session, frame) => {
    const parsed = listInput.safeParse(frame.params);
    if (!parsed.success) throw fromZodError(parsed.error, "params");
    const { pending } = await listPending(caller.ctx, actorOf(caller, session), parsed.data ?? {});
    const { paired } = await listPaired(caller.ctx, actorOf(caller, session));
    return { pending, paired };
  },
  "pairing.approve": async (caller, session, frame) =>
    approvePairing(caller.ctx, actorOf(caller, session), frame.params),
  "pairing.deny": async (caller, session, frame) => denyPairing(caller.ctx, actorOf(caller, session), frame.params),
  "pairing.revoke": async (caller, session, frame) => revokePairing(caller.ctx, actorOf(caller, session), frame.params),
  "approvals.create": async (caller, session, frame) =>
    (await createApproval(caller.ctx, principalOf(caller, session), frame.params)).answer,
  "approvals.get": async (caller, session, frame) => {
    const { wait, ...params } = objectParams(frame.params);
    return readApproval(
      caller.ctx,
      principalOf(caller, session),
      params,
      wait === undefined ? {} : { wait },
      caller.signal,
    );
  },
  "approvals.list": async (caller, session) => listApprovals(caller.ctx, actorOf(caller, session)),
  "approvals.approve": async (caller, session, frame) => decideOne(caller, session, frame, true),
  "approvals.deny": async (caller, session, frame) => decideOne(caller, session, frame, false),
};

export const WS_METHODS = Object.keys(METHODS);

/** All an agent token may call: asking for approvals and reading its own. */
const AGENT_METHODS: ReadonlySet<string> = new Set(["approvals.create", "approvals.get"]);

function objectParams(params: unknown): Record<string, unknown> {
  return params !== null && typeof params === "object" && !Array.isArray(params)
    ? (params as Record<string, unknown>)
    : {};
}

function decideOne(caller: MethodCaller, session: Session, frame: RequestFrame, approved: boolean): Promise<unknown> {
  const { reason, ...params } = objectParams(frame.params);
  return decideApproval(caller.ctx, actorOf(caller, session), params, approved, reason === undefined ? {} : { reason });
}

/** Runs one `req` frame for a connection that said hello; throws a GatewayError for the client to see. */
export function handleMethod(caller: MethodCaller, frame: RequestFrame): Promise<unknown> {
  // Not an async function (the handler's promise is handed back as it is); refusals are rejections all the same.
  const handler = Object.hasOwn(METHODS, frame.method) ? METHODS[frame.method] : undefined;
  if (!handler) {
    return Promise.reject(
      new GatewayError(
        "unknown_method",
        `unknown method "${frame.method.slice(0, 64)}"; known: ${WS_METHODS.join(", ")}`,
        "method",
      ),
    );
  }
  const { principal, sessionId } = caller;
  if (!principal || !sessionId) return Promise.reject(new GatewayError("unauthenticated", "say connect first"));
  if (principal.role === AGENT_ROLE && !AGENT_METHODS.has(frame.method)) {
    return Promise.reject(
      new GatewayError("forbidden", "an agent token may only create and read its approval requests"),
    );
  }
  return handler(caller, { principal, sessionId }, frame);
}
