import type { TextFormat } from "./format.js";

/** Plain text with no markup (the console, the CLI, the platform-neutral card text). */
export const PLAIN_TEXT: TextFormat = {
  name: "plain",
  escape: (text) => text,
  quote: (text) => `“${text.replace(/[“”]/g, '"')}”`,
  sendOptions: {},
};
