/** Bot tokens (Telegram `123:abc…`, Slack `xox…`, long opaque strings) never reach a log line. */
const TOKEN_LIKE = [
  /\d{5,}:[A-Za-z0-9_-]{20,}/g,
  /xox[a-z]-[A-Za-z0-9-]+/g,
  /[A-Za-z0-9_-]{32,}(\.[A-Za-z0-9_-]+){0,2}/g,
];

export function redact(text: string): string {
  return TOKEN_LIKE.reduce((out, pattern) => out.replace(pattern, "[redacted]"), text);
}

/** A loggable description of an error: its name and redacted message. */
export function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${redact(error.message)}` : typeof error;
}
