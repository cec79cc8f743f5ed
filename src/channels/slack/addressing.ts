/**
 * Whether a Slack channel message is for this bot, and its text without the bot's mention. Addressed: a mention of the
 * bot (`<@UBOT>` or `<@UBOT|name>`), a reply in a thread the bot started, or a leading `/command` typed as text.
 */
export function slackAddressing(
  text: string,
  botUserId: string | undefined,
  threadParentUser: string | undefined,
): { addressed: boolean; text: string } {
  if (!botUserId) return { addressed: false, text };
  const mention = new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, "g");
  const mentioned = mention.test(text);
  const stripped = text
    .replace(mention, " ")
    .replace(/\s{2,}/g, " ")
    .trim();
  const addressed = mentioned || threadParentUser === botUserId || stripped.startsWith("/");
  return { addressed, text: stripped };
}
