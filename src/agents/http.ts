import type { Agent, AgentContext, AgentMessage } from "../core/context.js";
import { AgentError } from "./errors.js";
import { streamedPieces } from "./http-stream.js";

const ACCEPT = "application/json, application/x-ndjson, text/event-stream, text/plain";

export interface HttpAgentOptions {
  /** Give up after this long, milliseconds; default 60 s. */
  timeoutMs?: number;
  /** Extra request headers (for example an Authorization header for the agent service). */
  headers?: Record<string, string>;
  /** Send the session's earlier turns as `history` (the gateway then keeps the conversation in its store). */
  history?: boolean;
}

/**
 * An agent behind an HTTP endpoint, with the contract in docs/http-agent.md (JSON Schemas in schemas/): POSTs
 * `{ text, sessionId, channelType, principal, history? }` as JSON and relays the answer, which is one JSON object
 * `{ "text": … }`, or a stream: NDJSON (`application/x-ndjson`) or server-sent events (`text/event-stream`) of
 * `{ "delta": … }` objects, or plain text. A non-2xx answer, an error object or a timeout is an error (the gateway tells
 * the user the agent could not answer).
 */
export function httpAgent(url: string, options: HttpAgentOptions = {}): Agent {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new TypeError(`httpAgent: url "${url}" is not a valid URL`);
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new TypeError("httpAgent: url must be http: or https:");
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const agent: Agent = async (message: AgentMessage, context: AgentContext) => {
    const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
    const response = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json", accept: ACCEPT, ...options.headers },
      body: JSON.stringify({
        text: message.text,
        sessionId: message.sessionId,
        channelType: message.channelType,
        principal: message.principal,
        ...(options.history ? { history: message.history ?? [] } : {}),
      }),
      signal,
    });
    if (!response.ok) {
      await response.body?.cancel();
      const failure =
        response.status === 429
          ? "rate-limited"
          : response.status === 504 || response.status === 408
            ? "timeout"
            : "unavailable";
      throw new AgentError(failure, `agent at ${target.origin} answered HTTP ${response.status}`);
    }
    const type = response.headers.get("content-type") ?? "";
    if (type.includes("application/json")) return replyFromJson(await response.json());
    if (!response.body) return "";
    return streamedPieces(type, response.body);
  };
  agent.usesHistory = options.history === true;
  return agent;
}

function replyFromJson(body: unknown): string {
  if (typeof body === "string") return body;
  if (body !== null && typeof body === "object") {
    const record = body as Record<string, unknown>;
    if (typeof record.text === "string") return record.text;
    if (typeof record.reply === "string") return record.reply;
  }
  throw new AgentError("failed", 'agent answered JSON without a "text" string');
}
