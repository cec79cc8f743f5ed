import type { Agent } from "../gateway/context.js";

/** The demo agent: streams the message back word by word, prefixed with "echo: ". */
export const echoAgent: Agent = (message) => streamWords(`echo: ${message.text}`);

async function* streamWords(text: string): AsyncIterable<string> {
  const parts = text.match(/\S+\s*/g) ?? [text];
  for (const part of parts) yield part;
}
