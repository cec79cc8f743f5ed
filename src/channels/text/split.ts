/**
 * Splitting and clipping that never cut inside a character. Lengths are counted in UTF-16 code units (JavaScript's
 * `length`), the unit Telegram counts in and never less than what Discord or Slack count, so a piece that fits here fits
 * on every platform; cuts fall only between grapheme clusters (an emoji with its modifiers and joiners, a letter with its
 * accents), so no piece ever carries half a surrogate pair (invalid UTF-8 on the wire) or half an emoji.
 */

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Offsets where a cut is allowed: 0, every grapheme boundary, and text.length. */
function boundaries(text: string): number[] {
  const cuts: number[] = [];
  for (const { index } of segmenter.segment(text)) cuts.push(index);
  cuts.push(text.length);
  return cuts;
}

/** The last code point boundary at or before `at` (for a single grapheme longer than the whole limit). */
function codePointCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/** The user-perceived characters of a text, in order. */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/**
 * Splits text into pieces of at most `max` UTF-16 units, preferring a line break in the second half of a piece (the
 * break itself is dropped), else the last grapheme boundary that fits. The pieces, joined, are the text minus those breaks.
 */
export function splitText(text: string, max: number): string[] {
  if (!Number.isInteger(max) || max < 2) throw new RangeError("splitText: max must be an integer of at least 2");
  const cuts = boundaries(text);
  const parts: string[] = [];
  let start = 0;
  let i = 0; // cuts[i] is the first boundary at or after start
  while (text.length - start > max) {
    let end = start;
    for (let j = i; j < cuts.length && cuts[j]! - start <= max; j++) if (cuts[j]! > start) end = cuts[j]!;
    if (end === start) end = codePointCut(text, start + max);
    let next = end;
    const newline = text.lastIndexOf("\n", end - 1);
    if (newline > start + max / 2) {
      end = text[newline - 1] === "\r" ? newline - 1 : newline;
      next = newline + 1;
    }
    parts.push(text.slice(start, end));
    start = next;
    while (i < cuts.length && cuts[i]! < start) i++;
  }
  if (start < text.length) parts.push(text.slice(start));
  return parts;
}

/** The text itself when it fits in `max` UTF-16 units, else its longest grapheme-whole start plus `ellipsis`. */
export function clipText(text: string, max: number, ellipsis = "…"): string {
  if (text.length <= max) return text;
  const room = max - ellipsis.length;
  if (room <= 0) return ellipsis.slice(0, Math.max(0, max));
  let end = 0;
  for (const cut of boundaries(text)) {
    if (cut > room) break;
    end = cut;
  }
  if (end === 0) end = codePointCut(text, room);
  return text.slice(0, end) + ellipsis;
}
