import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  clipText,
  DISCORD_MARKDOWN,
  graphemes,
  oneLine,
  PLAIN_TEXT,
  SLACK_MRKDWN,
  splitText,
  TELEGRAM_HTML,
  untrustedLine,
  WHATSAPP_TEXT,
} from "../src/channels/text/index.js";

const FAMILY = "👨‍👩‍👧‍👦"; // 11 UTF-16 units, one grapheme
const FLAG = "🇫🇷";
const ACCENT = "e\u0301";

/** A lone surrogate anywhere: the text would not survive UTF-8 encoding (Telegram refuses it). */
function hasLoneSurrogate(text: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

describe("splitting and clipping on character boundaries", () => {
  it("an emoji reply past the limit is split into whole emoji, each piece within the limit", () => {
    const text = "😀".repeat(3000); // 6000 UTF-16 units
    const parts = splitText(text, 4096);
    expect(parts.length).toBe(2);
    expect(parts.every((p) => p.length <= 4096 && !hasLoneSurrogate(p))).toBe(true);
    expect(parts.join("")).toBe(text);
  });

  it("never cuts a joined emoji, a flag or an accented letter", () => {
    for (const unit of [FAMILY, FLAG, ACCENT]) {
      const text = `a${unit.repeat(40)}`;
      for (const max of [5, 12, 13, 50]) {
        const parts = splitText(text, Math.max(max, unit.length));
        expect(parts.join("")).toBe(text);
        for (const part of parts) expect(graphemes(part).every((g) => g === "a" || g === unit)).toBe(true);
      }
    }
  });

  it("prefers line breaks and keeps every character (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), fc.integer({ min: 12, max: 120 }), (text, max) => {
        const parts = splitText(text, max);
        for (const part of parts) {
          expect(part.length).toBeLessThanOrEqual(max);
          expect(hasLoneSurrogate(part)).toBe(false);
        }
        expect(parts.join("").replace(/\r?\n/g, "")).toBe(text.replace(/\r?\n/g, ""));
      }),
    );
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n");
    expect(splitText(lines, 40).every((p) => !p.startsWith("\n") && !p.endsWith("\n"))).toBe(true);
  });

  it("a single grapheme longer than the limit is cut between code points, never inside one", () => {
    const zalgo = `a${"\u0301".repeat(30)}`;
    const parts = splitText(zalgo, 10);
    expect(parts.join("")).toBe(zalgo);
    expect(parts.every((p) => p.length <= 10)).toBe(true);
  });

  it("clips on a grapheme boundary and marks the clip", () => {
    expect(clipText("short", 10)).toBe("short");
    const clipped = clipText(`ab${FAMILY}cd`, 8);
    expect(clipped).toBe("ab…");
    expect(clipText("😀😀😀", 4)).toBe("😀…");
    expect(hasLoneSurrogate(clipText("😀".repeat(10), 6))).toBe(false);
  });
});

describe("requester text is one line and inert in every format", () => {
  const hostile =
    "Bob\nFrom: owner\r\nCode: AAAA-BBBB\u2028[click](https://evil.example) <@123> @everyone <!channel> <https://x|y> `x` <b>b</b> &amp; \u202Eevil";

  it("oneLine removes line breaks, bidi overrides and other layout characters", () => {
    const line = oneLine(hostile);
    expect(line).not.toMatch(/[\n\r\u2028\u2029\u202a-\u202e]/);
    expect(line.startsWith("Bob From: owner Code: AAAA-BBBB")).toBe(true);
    expect(untrustedLine("x".repeat(500), 64)).toHaveLength(64);
    expect(oneLine(FAMILY)).toBe(FAMILY);
  });

  it("Telegram HTML: tags and entities become text inside a code entity", () => {
    const quoted = TELEGRAM_HTML.quote(oneLine(hostile));
    expect(quoted).toMatch(/^“<code>[^<]*<\/code>”$/);
    expect(quoted).toContain("&lt;b&gt;b&lt;/b&gt; &amp;amp;");
  });

  it("Discord markdown: a code span that cannot be closed early; escape neutralises markup and mentions", () => {
    const quoted = DISCORD_MARKDOWN.quote(oneLine(hostile));
    expect(quoted.match(/`/g)).toHaveLength(2);
    expect(quoted.startsWith("`") && quoted.endsWith("`")).toBe(true);
    expect(DISCORD_MARKDOWN.escape("[a](b) @everyone *x*")).toBe("\\[a\\]\\(b\\) \\@everyone \\*x\\*");
  });

  it("Slack mrkdwn: &, < and > escaped, so no <link|label> or <!channel> survives", () => {
    const quoted = SLACK_MRKDWN.quote(oneLine(hostile));
    expect(quoted).not.toMatch(/[<>]/);
    expect(quoted.match(/`/g)).toHaveLength(2);
    expect(SLACK_MRKDWN.escape("<!channel> & <http://x|y>")).toBe("&lt;!channel&gt; &amp; &lt;http://x|y&gt;");
  });

  it("WhatsApp: a monospace block that cannot be closed early, with no link in it; escape neutralises markers", () => {
    const quoted = WHATSAPP_TEXT.quote(oneLine(hostile));
    expect(quoted.startsWith("```") && quoted.endsWith("```")).toBe(true);
    expect(quoted.match(/`/g)).toHaveLength(6);
    expect(quoted).not.toMatch(/\n|https?:\/\/|evil\.example/);
    expect(WHATSAPP_TEXT.escape("*bold* _it_ ~s~ `c` > q")).not.toMatch(/[*_~`>]/);
  });

  it("plain text quotes visibly", () => {
    expect(PLAIN_TEXT.quote("hi")).toBe("“hi”");
  });
});
