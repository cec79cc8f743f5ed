import { withoutBackticks, type TextFormat } from "./format.js";

/** WhatsApp's formatting markers (bold, italic, strikethrough, code, quote, lists) and their inert look-alikes. */
const MARKERS: Record<string, string> = { "*": "\u2217", _: "\uff3f", "~": "\u223c", "`": "\u02cb", ">": "\u203a" };

/**
 * WhatsApp message formatting. WhatsApp has no escape character, so `escape` swaps formatting markers for look-alikes;
 * a quote is a monospace block (no bold, italic or strikethrough inside) whose dots and `://` are look-alikes, so a
 * domain or URL in it is never turned into a link.
 */
function unlinkable(text: string): string {
  return text.replace(/\./g, "\u2024").replace(/:\/\//g, "\ua789//");
}

export const WHATSAPP_TEXT: TextFormat = {
  name: "whatsapp",
  escape: (text) => text.replace(/[*_~`>]/g, (c) => MARKERS[c] ?? c),
  quote: (text) => (text === "" ? "“”" : `\`\`\`${unlinkable(withoutBackticks(text))}\`\`\``),
  sendOptions: {},
};
