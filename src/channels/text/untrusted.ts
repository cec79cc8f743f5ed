import { clipText } from "./split.js";

/**
 * Line breaks, other control characters and invisible format characters that could fake layout: bidi embeddings,
 * overrides and isolates (which can make text read backwards), the line and paragraph separators. Zero-width joiners
 * stay: emoji sequences need them.
 */
const LAYOUT =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]+/g;

/** Text a requester controls, made one line: every run of layout characters becomes one space; trimmed. */
export function oneLine(text: string): string {
  return text.replace(LAYOUT, " ").replace(/ {2,}/g, " ").trim();
}

/** One line, clipped to `max` UTF-16 units at a character boundary (the clip is marked with "…"). */
export function untrustedLine(text: string, max: number): string {
  return clipText(oneLine(text), max);
}
