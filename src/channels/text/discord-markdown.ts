import { withoutBackticks, type TextFormat } from "./format.js";

/** Every character Discord's markdown, mentions, custom emoji, headings, lists and masked links are made of. */
const MARKDOWN = /[\\*_~`|>#\-[\]()<:@]/g;

/**
 * Discord message markdown. `escape` backslash-escapes markup; a quote is an inline code span (no markdown, mentions,
 * custom emoji or links inside), with backticks swapped for a look-alike so the span cannot be closed early.
 * Send with `allowed_mentions: { parse: [] }` as well, so nothing in it can ping anyone.
 */
export const DISCORD_MARKDOWN: TextFormat = {
  name: "discord-markdown",
  escape: (text) => text.replace(MARKDOWN, (c) => `\\${c}`),
  quote: (text) => (text === "" ? "“”" : `\`${withoutBackticks(text)}\``),
  sendOptions: { allowedMentions: { parse: [] } },
};
