import type OpenAI from "openai";
import type { Agent, AgentContext, AgentMessage } from "../core/context.js";
import { AgentError, MissingAgentPackageError } from "./errors.js";

export interface OpenAIAgentOptions {
  /** The server's API root, e.g. `https://api.openai.com/v1` or Ollama's `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  model: string;
  /** The API key; local servers (Ollama, llama.cpp, vLLM) usually need none. */
  apiKey?: string;
  systemPrompt?: string;
  temperature?: number;
  /** Upper bound on the reply's tokens (sent as `max_tokens`, which every compatible server knows). */
  maxTokens?: number;
  /** Longest wait for the first token, and between two tokens, milliseconds; default 60 s. */
  idleTimeoutMs?: number;
  /** Retries of a 429 or 5xx answer, honouring the server's retry-after; default 1. */
  maxRetries?: number;
}

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/**
 * An agent on any server that speaks OpenAI's Chat Completions API (OpenAI, Azure, Ollama, vLLM, LM Studio, llama.cpp,
 * LiteLLM, OpenRouter), through the official `openai` client (an optional peer dependency, loaded on first use). It sends
 * the system prompt, the session's earlier turns and the new message, and streams the reply as it arrives. The request is
 * aborted when the turn is cancelled (`/stop`, the client leaving, the gateway stopping) or the model goes quiet for
 * `idleTimeoutMs`. Failures become an AgentError that says what kind of failure it was, without the key or the text.
 */
export function openaiAgent(options: OpenAIAgentOptions): Agent {
  const settings = checkOptions(options);
  let client: Promise<OpenAI> | undefined;
  const agent: Agent = (message, context) => {
    client ??= loadClient(settings);
    return streamReply(client, settings, message, context);
  };
  agent.usesHistory = true;
  return agent;
}

interface Settings extends OpenAIAgentOptions {
  idleTimeoutMs: number;
  maxRetries: number;
}

function checkOptions(options: OpenAIAgentOptions): Settings {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new TypeError("openaiAgent: baseUrl is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new TypeError("openaiAgent: baseUrl must be http: or https:");
  if (typeof options.model !== "string" || options.model.trim() === "")
    throw new TypeError("openaiAgent: model must be a non-empty string");
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs <= 0)
    throw new TypeError("openaiAgent: idleTimeoutMs must be a positive number");
  const maxRetries = options.maxRetries ?? 1;
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw new TypeError("openaiAgent: maxRetries must be a non-negative integer");
  return { ...options, idleTimeoutMs, maxRetries };
}

async function loadClient(settings: Settings): Promise<OpenAI> {
  let module: typeof import("openai");
  try {
    module = await import("openai");
  } catch (error) {
    throw new MissingAgentPackageError("openai", "openai", { cause: error });
  }
  return new module.OpenAI({
    baseURL: settings.baseUrl,
    // The client refuses to start without a key; local servers ignore whatever is sent.
    apiKey: settings.apiKey ?? "none",
    maxRetries: settings.maxRetries,
    timeout: settings.idleTimeoutMs,
  });
}

function requestMessages(settings: Settings, message: AgentMessage): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (settings.systemPrompt) messages.push({ role: "system", content: settings.systemPrompt });
  for (const turn of message.history ?? []) messages.push({ role: turn.role, content: turn.content });
  messages.push({ role: "user", content: message.text });
  return messages;
}

async function* streamReply(
  client: Promise<OpenAI>,
  settings: Settings,
  message: AgentMessage,
  context: AgentContext,
): AsyncIterable<string> {
  const idle = new IdleTimer(settings.idleTimeoutMs);
  const signal = AbortSignal.any([context.signal, idle.signal]);
  try {
    const openai = await client;
    idle.restart();
    const stream = await openai.chat.completions.create(
      {
        model: settings.model,
        messages: requestMessages(settings, message),
        stream: true,
        ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
        ...(settings.maxTokens !== undefined ? { max_tokens: settings.maxTokens } : {}),
      },
      { signal },
    );
    idle.restart();
    for await (const chunk of stream) {
      idle.restart();
      const piece = chunk.choices[0]?.delta?.content;
      if (piece) yield piece;
    }
    // The client ends the iteration quietly when its signal fires: a stop is the caller's to see, a timeout is an error.
    if (idle.signal.aborted)
      throw new AgentError("timeout", `no token from the model for ${settings.idleTimeoutMs} ms`);
  } catch (error) {
    if (context.signal.aborted) throw error;
    throw asAgentError(error, idle.signal.aborted, settings.idleTimeoutMs);
  } finally {
    idle.clear();
  }
}

/** An AbortSignal that fires when restart() has not been called for `ms`. */
class IdleTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  readonly signal = this.controller.signal;

  constructor(private readonly ms: number) {}

  restart(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(), this.ms);
    this.timer.unref();
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** What kind of failure this was, with a detail safe to log: HTTP status, OpenAI error type and code, no message text. */
function asAgentError(error: unknown, timedOut: boolean, idleTimeoutMs: number): AgentError {
  if (error instanceof AgentError) return error;
  if (timedOut) return new AgentError("timeout", `no token from the model for ${idleTimeoutMs} ms`, { cause: error });
  const name = error instanceof Error ? error.name : typeof error;
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number") {
    const { type, code } = error as { type?: unknown; code?: unknown };
    const detail = `model server answered HTTP ${status} (type ${String(type ?? "-")}, code ${String(code ?? "-")})`;
    if (status === 429) return new AgentError("rate-limited", detail, { cause: error });
    if (status === 408 || status === 504) return new AgentError("timeout", detail, { cause: error });
    if (status === 401 || status === 403 || status === 404 || status >= 500)
      return new AgentError("unavailable", detail, { cause: error });
    return new AgentError("failed", detail, { cause: error });
  }
  if (name === "APIConnectionTimeoutError")
    return new AgentError("timeout", "the model server did not answer in time", { cause: error });
  if (name === "APIConnectionError")
    return new AgentError("unavailable", "the model server could not be reached", { cause: error });
  if (error instanceof MissingAgentPackageError) return new AgentError("unavailable", error.message, { cause: error });
  return new AgentError("failed", `the model stream broke (${name})`, { cause: error });
}
