import type { Message, UserFromGetMe } from "grammy/types";

/**
 * Whether a Telegram group message is for this bot, and its text without the bot's @mention. Addressed: a command at
 * the start (`/cmd`, or `/cmd@thisbot`; `/cmd@otherbot` is another bot's), an @mention of this bot, or a reply to one
 * of its messages. Entity offsets are in UTF-16 units, as JavaScript strings count.
 */
export function telegramAddressing(
  message: Pick<Message, "text" | "entities" | "reply_to_message">,
  me: UserFromGetMe,
): {
  addressed: boolean;
  text: string;
} {
  const text = message.text ?? "";
  const mine = `@${me.username}`.toLowerCase();
  let addressed = message.reply_to_message?.from?.id === me.id;
  let stripped = text;
  for (const entity of [...(message.entities ?? [])].reverse()) {
    const part = text.slice(entity.offset, entity.offset + entity.length);
    if (entity.type === "bot_command" && entity.offset === 0) {
      const at = part.indexOf("@");
      if (at === -1 || part.slice(at).toLowerCase() === mine) addressed = true;
    } else if (entity.type === "mention" && part.toLowerCase() === mine) {
      addressed = true;
      stripped = stripped.slice(0, entity.offset) + stripped.slice(entity.offset + entity.length);
    }
  }
  return { addressed, text: stripped.replace(/\s{2,}/g, " ").trim() };
}
