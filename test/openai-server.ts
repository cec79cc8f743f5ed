import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * What the server does with one request. The default is to stream `reply` (or echo the last user message) token by token.
 * - `error`: answer with OpenAI's error object `{ error: { message, type, param, code } }` and that status; a 429 carries
 *   `retry-after` (seconds), `retry-after-ms` and the `x-ratelimit-*` headers, as OpenAI sends them.
 * - `disconnectAfter`: stream that many content tokens, then destroy the socket without `[DONE]`.
 */
export type ModelScript =
  | { kind: "reply"; text: string }
  | { kind: "error"; status: number; type: string; code: string | null; message: string; retryAfterSeconds?: number }
  | { kind: "disconnectAfter"; tokens: number; text: string };

/** OpenAI's 429 "Rate limit reached" (rate_limit_exceeded), with Retry-After in seconds. */
export function rateLimited(retryAfterSeconds: number): ModelScript {
  return {
    kind: "error",
    status: 429,
    type: "requests",
    code: "rate_limit_exceeded",
    message: "Rate limit reached",
    retryAfterSeconds,
  };
}

export interface ModelServerOptions {
  /** The API key clients must send as `Authorization: Bearer <key>`; any other answer is 401 invalid_api_key. */
  apiKey: string;
  /** Delay before the first content token (a slow model thinking), milliseconds. */
  firstTokenDelayMs?: number;
  /** Fixed delay between content tokens (a fixed token rate), milliseconds; 0 writes them back to back. */
  tokenIntervalMs?: number;
  /** The default answer when no script is queued; default: `you said: <last user message>`. */
  reply?: (body: ChatRequestBody) => string;
}

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
}

export interface RecordedRequest {
  body: ChatRequestBody;
  headers: IncomingMessage["headers"];
  /** True when the client hung up before the answer was complete (an aborted request). */
  disconnected: boolean;
}

/**
 * A local stand-in for an OpenAI-compatible Chat Completions server (`POST /v1/chat/completions`), following OpenAI's
 * documented streaming format: `data: <chunk>` server-sent events whose `choices[0].delta` carries the role, then the
 * content piece by piece, then a chunk with `finish_reason: "stop"`, then (with `stream_options.include_usage`) one chunk
 * with `choices: []` and the token usage, and finally `data: [DONE]`. Without `stream` it answers one `chat.completion`.
 * Tests queue scripts (errors, 429, a disconnect mid-stream) and read what the clients sent.
 */
export class LocalModelServer {
  readonly requests: RecordedRequest[] = [];
  /** The API root (`http://127.0.0.1:<port>/v1`) once listening. */
  url: string | undefined;
  private readonly server: Server;
  private readonly scripts: ModelScript[] = [];
  private readonly disconnectWaiters: Array<() => void> = [];
  private readonly requestWaiters: Array<() => void> = [];

  constructor(private readonly options: ModelServerOptions) {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch(() => res.destroy());
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Queues what the next request gets (first in, first out); requests without a script get the default reply. */
  next(script: ModelScript): void {
    this.scripts.push(script);
  }

  setTiming(timing: { firstTokenDelayMs?: number; tokenIntervalMs?: number }): void {
    Object.assign(this.options, timing);
  }

  /** Resolves once `count` requests have been received in all. */
  async waitForRequests(count: number, timeoutMs = 5_000): Promise<void> {
    await this.until(() => this.requests.length >= count, this.requestWaiters, timeoutMs, `${count} model requests`);
  }

  /** Resolves once some client has hung up in the middle of an answer. */
  async waitForDisconnect(timeoutMs = 5_000): Promise<void> {
    await this.until(
      () => this.requests.some((r) => r.disconnected),
      this.disconnectWaiters,
      timeoutMs,
      "a client disconnect",
    );
  }

  private async until(done: () => boolean, waiters: Array<() => void>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), sleep(50)]);
    }
  }

  private wake(waiters: Array<() => void>): void {
    for (const wake of waiters.splice(0)) wake();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("x-request-id", `req_${randomBytes(8).toString("hex")}`);
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      return sendError(res, {
        status: 404,
        type: "invalid_request_error",
        code: "unknown_url",
        message: `Unknown request URL: ${req.method} ${req.url}`,
      });
    }
    const raw = await readBody(req);
    if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      return sendError(res, {
        status: 401,
        type: "invalid_request_error",
        code: "invalid_api_key",
        message: "Incorrect API key provided.",
      });
    }
    let body: ChatRequestBody;
    try {
      body = JSON.parse(raw) as ChatRequestBody;
    } catch {
      return sendError(res, {
        status: 400,
        type: "invalid_request_error",
        code: null,
        message: "We could not parse the JSON body of your request.",
      });
    }
    const invalid = invalidField(body);
    if (invalid) return sendError(res, { status: 400, type: "invalid_request_error", code: null, message: invalid });

    const record: RecordedRequest = { body, headers: req.headers, disconnected: false };
    this.requests.push(record);
    this.wake(this.requestWaiters);
    res.on("close", () => {
      if (!res.writableFinished) {
        record.disconnected = true;
        this.wake(this.disconnectWaiters);
      }
    });

    const script = this.scripts.shift() ?? { kind: "reply", text: this.defaultReply(body) };
    if (script.kind === "error") return sendError(res, script);
    if (!body.stream) return this.answerWhole(res, body, script.text);
    await this.stream(res, body, script);
  }

  private defaultReply(body: ChatRequestBody): string {
    if (this.options.reply) return this.options.reply(body);
    const lastUser = [...body.messages].reverse().find((m) => m.role === "user");
    return `you said: ${lastUser?.content ?? ""}`;
  }

  private answerWhole(res: ServerResponse, body: ChatRequestBody, text: string): void {
    const completion = {
      id: `chatcmpl-${randomBytes(6).toString("hex")}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: text, refusal: null },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage: usage(body, text),
    };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(completion));
  }

  private async stream(
    res: ServerResponse,
    body: ChatRequestBody,
    script: Exclude<ModelScript, { kind: "error" }>,
  ): Promise<void> {
    const includeUsage = body.stream_options?.include_usage === true;
    const base = {
      id: `chatcmpl-${randomBytes(6).toString("hex")}`,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      system_fingerprint: "fp_local",
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
      `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) })}\n\n`;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    res.write(chunk({ role: "assistant", content: "", refusal: null }, null));
    const tokens = tokenize(script.text);
    const limit = script.kind === "disconnectAfter" ? Math.min(script.tokens, tokens.length) : tokens.length;
    const { firstTokenDelayMs = 0, tokenIntervalMs = 0 } = this.options;
    for (let i = 0; i < limit; i++) {
      const wait = i === 0 ? firstTokenDelayMs : tokenIntervalMs;
      if (wait > 0) await sleep(wait);
      if (res.destroyed) return;
      res.write(chunk({ content: tokens[i] }, null));
    }
    if (script.kind === "disconnectAfter") {
      // Let what was written reach the client first: destroying a socket drops its unsent buffer.
      await new Promise<void>((resolve) => res.write("", () => resolve()));
      res.socket?.destroy();
      return;
    }
    res.write(chunk({}, "stop"));
    if (includeUsage)
      res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: usage(body, script.text) })}\n\n`);
    res.end("data: [DONE]\n\n");
  }
}

/** Pieces of text the size of model tokens: each word with the whitespace before it. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/gu) ?? (text === "" ? [] : [text]);
}

function usage(body: ChatRequestBody, text: string): Record<string, number> {
  const prompt = body.messages.reduce((sum, m) => sum + tokenize(m.content).length, 0);
  const completion = tokenize(text).length;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function invalidField(body: unknown): string | undefined {
  if (body === null || typeof body !== "object") return "The request body must be a JSON object.";
  const record = body as Record<string, unknown>;
  if (typeof record.model !== "string" || record.model === "") return "you must provide a model parameter";
  if (!Array.isArray(record.messages) || record.messages.length === 0) return "'messages' must be a non-empty array";
  for (const [index, m] of (record.messages as unknown[]).entries()) {
    const message = m as Record<string, unknown> | null;
    if (!message || !["system", "user", "assistant", "developer"].includes(String(message.role)))
      return `Invalid value for 'messages[${index}].role'.`;
    if (typeof message.content !== "string") return `Invalid type for 'messages[${index}].content': expected a string.`;
  }
  return undefined;
}

function sendError(
  res: ServerResponse,
  error: { status: number; type: string; code: string | null; message: string; retryAfterSeconds?: number },
): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (error.status === 429) {
    const seconds = error.retryAfterSeconds ?? 1;
    headers["retry-after"] = String(seconds);
    headers["retry-after-ms"] = String(seconds * 1000);
    headers["x-ratelimit-limit-requests"] = "60";
    headers["x-ratelimit-remaining-requests"] = "0";
    headers["x-ratelimit-reset-requests"] = `${seconds}s`;
  }
  res
    .writeHead(error.status, headers)
    .end(JSON.stringify({ error: { message: error.message, type: error.type, param: null, code: error.code } }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}
