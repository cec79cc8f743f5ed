import { createParser } from "eventsource-parser";
import { AgentError } from "./errors.js";

/**
 * The pieces of a streamed HTTP agent answer, by content type (docs/http-agent.md):
 * - `application/x-ndjson`: one JSON object per line, `{"delta":"…"}`; `{"error":{"message":"…"}}` ends it as a failure.
 * - `text/event-stream`: server-sent events whose data is the same JSON (`data: {"delta":"…"}`), or `[DONE]` at the end.
 * - anything else (text/plain): the body's text, as it arrives.
 */
export function streamedPieces(type: string, body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  if (type.includes("application/x-ndjson")) return ndjsonPieces(body);
  if (type.includes("text/event-stream")) return ssePieces(body);
  return textPieces(body);
}

async function* textPieces(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

async function* ndjsonPieces(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  let buffered = "";
  for await (const text of textPieces(body)) {
    buffered += text;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      const piece = line === "" ? "" : pieceOf(line);
      if (piece) yield piece;
    }
  }
  const last = buffered.trim() === "" ? "" : pieceOf(buffered.trim());
  if (last) yield last;
}

async function* ssePieces(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const data: string[] = [];
  const parser = createParser({ onEvent: (event) => data.push(event.data) });
  for await (const text of textPieces(body)) {
    parser.feed(text);
    for (const item of data.splice(0)) {
      if (item === "[DONE]") return;
      const piece = pieceOf(item);
      if (piece) yield piece;
    }
  }
}

/** One `{"delta": "…"}` object's text; an `{"error": {"message"}}` object is the agent saying it failed. */
function pieceOf(json: string): string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new AgentError("failed", "agent stream carried a line that is not JSON");
  }
  const record = (value ?? {}) as { delta?: unknown; error?: { message?: unknown; code?: unknown } };
  if (record.error !== undefined) {
    // The agent's own words are not logged (they may quote the conversation); its code is.
    throw new AgentError("failed", `agent reported an error (code ${String(record.error?.code ?? "-")})`);
  }
  if (typeof record.delta === "string") return record.delta;
  return "";
}
