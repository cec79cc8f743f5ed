import type { TextFormat } from "./format.js";

/**
 * Telegram's HTML parse mode. Only `<`, `>` and `&` need escaping (Bot API "HTML style"); a quote is a `<code>` entity,
 * inside which Telegram detects no links, mentions, hashtags or commands (in plain text it would).
 */
export const TELEGRAM_HTML: TextFormat = {
  name: "telegram-html",
  escape: (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"),
  quote: (text) => `“<code>${TELEGRAM_HTML.escape(text)}</code>”`,
  sendOptions: { parse_mode: "HTML", link_preview_options: { is_disabled: true } },
};
