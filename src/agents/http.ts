import type { Agent, AgentContext, AgentMessage } from "../core/context.js";

export interface HttpAgentOptions {
  /** Give up after this long, milliseconds; default 60 s. */
  timeoutMs?: number;
  /** Extra request headers (for example an Authorization header for the agent service). */
  headers?: Record<string, string>;
  /** Send the session's earlier turns as `history` (the gateway then keeps the conversation in its store). */
  history?: boolean;
}

/**
 * An agent behind an HTTP endpoint: POSTs `{ text, sessionId, channelType, principal }` as JSON and relays the answer.
 * A JSON answer must carry `text` (or `reply`); any other answer is relayed as text, chunk by chunk as it streams in.
 * A non-2xx answer or a timeout is an error (the gateway tells the user the agent could not answer).
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
      headers: { "content-type": "application/json", accept: "application/json, text/plain", ...options.headers },
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
      throw new Error(`agent at ${target.origin} answered HTTP ${response.status}`);
    }
    const type = response.headers.get("content-type") ?? "";
    if (type.includes("application/json")) return replyFromJson(await response.json());
    if (!response.body) return "";
    return decodeStream(response.body);
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
  throw new Error('agent answered JSON without a "text" string');
}

async function* decodeStream(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}
