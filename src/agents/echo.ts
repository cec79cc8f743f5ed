import type { Agent } from "../core/context.js";

/** The demo agent: streams the message back word by word, prefixed with "echo: ". */
export const echoAgent: Agent = (message) => new WordStream(`echo: ${message.text}`);

/**
 * The words of a text (each with the whitespace after it) as an async stream. A plain iterator class rather than an
 * async generator: one settled promise per word, without the generator's extra awaits or per-call closures.
 */
class WordStream implements AsyncIterable<string>, AsyncIterator<string, undefined> {
  private readonly parts: string[];
  private index = 0;

  constructor(text: string) {
    this.parts = text.match(/\S+\s*/g) ?? [text];
  }

  [Symbol.asyncIterator](): AsyncIterator<string, undefined> {
    return this;
  }

  next(): Promise<IteratorResult<string, undefined>> {
    const part = this.parts[this.index];
    if (part === undefined) return Promise.resolve({ value: undefined, done: true });
    this.index++;
    return Promise.resolve({ value: part, done: false });
  }
}
