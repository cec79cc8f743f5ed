/**
 * One platform's text format. Every adapter that shows text someone else wrote (a requester's name or first message)
 * goes through its format: `escape` makes text literal (no markup, mention or link syntax in it takes effect), `quote`
 * shows an already one-lined text as a visibly quoted literal that cannot become a link, a mention or a button.
 */
export interface TextFormat {
  readonly name: string;
  escape(text: string): string;
  quote(text: string): string;
  /** Options the platform needs to read the text in this format (e.g. Telegram's parse_mode). */
  readonly sendOptions: Readonly<Record<string, unknown>>;
}

/** Replaces the backticks that would end an inline code span with a look-alike that does not. */
export function withoutBackticks(text: string): string {
  return text.replace(/`/g, "\u02cb");
}
