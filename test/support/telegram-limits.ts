/**
 * The Bot API's documented input checks, as the local Bot API applies them: text length counted in UTF-16 code units
 * after entity parsing (sendMessage 1-4096; answerCallbackQuery 0-200), strings must be valid UTF-8 (a lone surrogate is
 * not), callback_data 1-64 bytes, bot commands 1-32 of a-z0-9_ with 1-256 character descriptions, and HTML parse mode
 * with only the documented tags. Entities Telegram would detect in the visible text (URLs, @mentions, /commands) are
 * reported outside code/pre, as a client would show them.
 */

export class BotApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: { retry_after?: number; migrate_to_chat_id?: number },
  ) {
    super(description);
  }
}

export const badRequest = (what: string): BotApiError => new BotApiError(400, `Bad Request: ${what}`);

export interface Entity {
  type: string;
  offset: number;
  length: number;
  url?: string;
}

const TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "span",
  "tg-spoiler",
  "a",
  "code",
  "pre",
  "blockquote",
  "tg-emoji",
]);
const TAG_ENTITY: Record<string, string> = {
  b: "bold",
  strong: "bold",
  i: "italic",
  em: "italic",
  u: "underline",
  ins: "underline",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  span: "spoiler",
  "tg-spoiler": "spoiler",
  a: "text_link",
  code: "code",
  pre: "pre",
  blockquote: "blockquote",
  "tg-emoji": "custom_emoji",
};
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

/** True when the string cannot be encoded as UTF-8 (it holds half a surrogate pair). */
export function hasLoneSurrogate(text: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

/** Every string in a request body must be valid UTF-8, or Telegram refuses the whole request. */
export function assertUtf8(value: unknown): void {
  if (typeof value === "string" && hasLoneSurrogate(value)) throw badRequest("strings must be encoded in UTF-8");
  if (value && typeof value === "object") for (const inner of Object.values(value)) assertUtf8(inner);
}

/** Parses Bot API HTML: the visible text and its entities; unsupported or unbalanced tags are refused as Telegram does. */
export function parseHtml(html: string): { text: string; entities: Entity[] } {
  let text = "";
  const entities: Entity[] = [];
  const open: Array<{ tag: string; offset: number; url?: string }> = [];
  const pattern = /<(\/?)([a-z-]+)([^>]*)>|&(#x[0-9a-f]+|#\d+|[a-z]+);|([<>&])|([^<>&]+)/giy;
  for (let match = pattern.exec(html); match; match = pattern.exec(html)) {
    const [, closing, tagName, attrs, entity, bare, plain] = match;
    const byte = Buffer.byteLength(html.slice(0, match.index));
    if (plain !== undefined) text += plain;
    else if (bare !== undefined) {
      if (bare === "&") text += "&";
      else
        throw badRequest(
          `can't parse entities: Unexpected ${bare === "<" ? "start" : "end"} tag at byte offset ${byte}`,
        );
    } else if (entity !== undefined) {
      const lower = entity.toLowerCase();
      if (lower.startsWith("#"))
        text += String.fromCodePoint(lower[1] === "x" ? parseInt(lower.slice(2), 16) : Number(lower.slice(1)));
      else if (NAMED[lower] !== undefined) text += NAMED[lower];
      else throw badRequest(`can't parse entities: Unsupported HTML entity "&${entity};" at byte offset ${byte}`);
    } else {
      const tag = tagName!.toLowerCase();
      if (!TAGS.has(tag))
        throw badRequest(`can't parse entities: Unsupported start tag "${tag}" at byte offset ${byte}`);
      if (closing) {
        const top = open.pop();
        if (!top || top.tag !== tag)
          throw badRequest(`can't parse entities: Can't find end tag corresponding to start tag "${top?.tag ?? tag}"`);
        entities.push({
          type: TAG_ENTITY[tag]!,
          offset: top.offset,
          length: text.length - top.offset,
          ...(top.url ? { url: top.url } : {}),
        });
      } else {
        const href = /href\s*=\s*"([^"]*)"/i.exec(attrs ?? "")?.[1];
        open.push({ tag, offset: text.length, ...(href ? { url: href } : {}) });
      }
    }
  }
  if (open.length > 0)
    throw badRequest(`can't parse entities: Can't find end tag corresponding to start tag "${open.at(-1)!.tag}"`);
  return { text, entities };
}

/** URLs, @mentions and /commands Telegram detects in visible text, except inside code and pre entities. */
export function detectEntities(text: string, explicit: Entity[]): Entity[] {
  const literal = explicit.filter((e) => e.type === "code" || e.type === "pre");
  const inside = (offset: number): boolean => literal.some((e) => offset >= e.offset && offset < e.offset + e.length);
  const found: Entity[] = [];
  const kinds: Array<[string, RegExp]> = [
    ["url", /\b(?:https?:\/\/)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?:\/[^\s]*)?/gi],
    ["mention", /(?<![\w@])@[a-z0-9_]{5,32}\b/gi],
    ["bot_command", /(?<![\w/])\/[a-z0-9_]{1,32}\b/gi],
  ];
  for (const [type, regex] of kinds) {
    for (const match of text.matchAll(regex)) {
      if (!inside(match.index)) found.push({ type, offset: match.index, length: match[0].length });
    }
  }
  return [...explicit, ...found];
}

/** sendMessage's text: the visible text and entities, or the Bot API's refusal. */
export function checkMessageText(raw: unknown, parseMode: unknown): { text: string; entities: Entity[] } {
  if (typeof raw !== "string" || raw.trim() === "") throw badRequest("message text is empty");
  if (parseMode !== undefined && parseMode !== "HTML")
    throw badRequest(`unsupported parse_mode "${String(parseMode)}"`);
  const parsed = parseMode === "HTML" ? parseHtml(raw) : { text: raw, entities: [] };
  if (parsed.text.trim() === "") throw badRequest("message text is empty");
  if (parsed.text.length > 4096) throw badRequest("message is too long");
  return { text: parsed.text, entities: detectEntities(parsed.text, parsed.entities) };
}

/** An inline keyboard: callback_data 1-64 bytes, button text not empty. */
export function checkInlineKeyboard(markup: unknown): void {
  if (markup === undefined) return;
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (!Array.isArray(rows)) throw badRequest('field "inline_keyboard" must be an Array');
  for (const button of rows.flat() as Array<{ text?: unknown; callback_data?: unknown }>) {
    if (typeof button.text !== "string" || button.text === "")
      throw badRequest("text buttons are unallowed in the inline keyboard");
    const data = button.callback_data;
    if (typeof data === "string" && (data === "" || Buffer.byteLength(data) > 64))
      throw badRequest("BUTTON_DATA_INVALID");
  }
}

/** setMyCommands: 1-100 commands, each 1-32 of a-z, 0-9 and _, with a 1-256 character description. */
export function checkCommands(commands: unknown): Array<{ command: string; description: string }> {
  if (!Array.isArray(commands) || commands.length > 100)
    throw badRequest("commands must be an array of at most 100 BotCommand");
  for (const entry of commands as Array<{ command?: unknown; description?: unknown }>) {
    if (typeof entry.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(entry.command))
      throw badRequest("BOT_COMMAND_INVALID");
    if (typeof entry.description !== "string" || entry.description.length < 1 || entry.description.length > 256) {
      throw badRequest("BOT_COMMAND_DESCRIPTION_INVALID");
    }
  }
  return commands as Array<{ command: string; description: string }>;
}
