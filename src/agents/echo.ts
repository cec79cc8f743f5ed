import type { Agent } from "../gateway/context.js";

/** The demo agent: streams the message back word by word, prefixed with "echo: ". */
export const echoAgent: Agent = (message) => streamWords(`echo: ${message.text}`);

/**
 * The words of `text` (each with the whitespace after it) as an async stream. A plain iterator rather than an async
 * generator: one settled promise per word, without the generator's extra awaits.
 */
function streamWords(text: string): AsyncIterable<string> {
  const parts = text.match(/\S+\s*/g) ?? [text];
  return {
    [Symbol.asyncIterator]: () => {
      let next = 0;
      return {
        next: () =>
          Promise.resolve<IteratorResult<string, undefined>>(
            next < parts.length ? { value: parts[next++]!, done: false } : { value: undefined, done: true },
          ),
      };
    },
  };
}
