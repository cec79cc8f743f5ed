import { withoutBackticks, type TextFormat } from "./format.js";

/**
 * Slack mrkdwn. Slack asks for exactly `&`, `<` and `>` to be escaped (that is what turns `<http://…|label>` links and
 * `<!channel>` mentions into plain text); a quote is also an inline code span, which Slack never links. Send sections
 * with `verbatim: true` so Slack does not auto-link URLs or channel names either.
 */
export const SLACK_MRKDWN: TextFormat = {
  name: "slack-mrkdwn",
  escape: (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"),
  quote: (text) => (text === "" ? "“”" : `\`${SLACK_MRKDWN.escape(withoutBackticks(text))}\``),
  sendOptions: {},
};
