/** What the gateway answers itself to the chat commands that steer a conversation. */
export const COMMAND_REPLIES = {
  stopped: "Stopped.",
  nothingToStop: "Nothing to stop: no answer is running.",
  fresh: "Starting a fresh conversation. Earlier messages are forgotten.",
  busy: "Still answering your earlier messages. Please wait for them, or send /stop.",
} as const;

const NON_BLANK = /\S/;
const SLASH = 0x2f;

/**
 * `/stop` cancels the running answer; `/new` and `/reset` forget the conversation. Telegram appends the bot's name in
 * groups (`/stop@my_bot`); anything after the command is ignored. Every other text is null (a message for the agent).
 */
export function chatCommand(text: string): "stop" | "new" | null {
  // Most messages are not commands: a text whose first non-blank character is not "/" is answered without trimming.
  const first = text.search(NON_BLANK);
  if (first === -1 || text.charCodeAt(first) !== SLASH) return null;
  const match = /^\/(stop|new|reset)(?:@[A-Za-z0-9_]+)?(?:\s|$)/i.exec(text.trim());
  if (!match) return null;
  return match[1]!.toLowerCase() === "stop" ? "stop" : "new";
}
