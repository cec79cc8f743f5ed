/**
 * Whether a Discord guild message is for this bot, and its content without the bot's mention. Addressed: a user mention
 * of the bot (`<@id>` or `<@!id>`; @everyone and role mentions do not count), a reply to one of its messages, or a
 * leading `/command` typed as text.
 */
export function discordAddressing(
  content: string,
  botId: string | undefined,
  mentionedUserIds: readonly string[],
  repliedToUserId: string | undefined,
): { addressed: boolean; text: string } {
  if (!botId) return { addressed: false, text: content };
  const stripped = content
    .replace(new RegExp(`<@!?${botId}>`, "g"), " ")
    .replace(/\s{2,}/g, " ")
    .trim();
  const addressed = mentionedUserIds.includes(botId) || repliedToUserId === botId || stripped.startsWith("/");
  return { addressed, text: stripped };
}
