export { clipText, graphemes, splitText } from "./split.js";
export { oneLine, untrustedLine } from "./untrusted.js";
export { withoutBackticks, type TextFormat } from "./format.js";
export { PLAIN_TEXT } from "./plain.js";
export { TELEGRAM_HTML } from "./telegram-html.js";
export { DISCORD_MARKDOWN } from "./discord-markdown.js";
export { SLACK_MRKDWN } from "./slack-mrkdwn.js";
export { WHATSAPP_TEXT } from "./whatsapp.js";
