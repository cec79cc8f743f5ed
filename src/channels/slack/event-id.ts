/** How long an Events API delivery's id is remembered: Slack retries after about 1 minute and 5 minutes. */
export const SLACK_EVENT_ID_TTL_MS = 60 * 60_000;

/**
 * The `event_id` of an Events API delivery (a JSON `event_callback`), or null for anything else (interactivity payloads
 * are form-encoded and carry single-use signed tokens instead). Slack sends the same event_id on every retry
 * (`X-Slack-Retry-Num`) and a replay carries it too, so it is what de-duplication keys on.
 */
export function slackEventId(raw: Buffer, contentType: string | undefined): string | null {
  if (!contentType?.toLowerCase().startsWith("application/json")) return null;
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return null;
  }
  const {
    type,
    event_id: id,
    api_app_id: app,
  } = (body ?? {}) as { type?: unknown; event_id?: unknown; api_app_id?: unknown };
  if (type !== "event_callback" || typeof id !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) return null;
  return typeof app === "string" && /^[A-Za-z0-9]{1,32}$/.test(app) ? `${app}:${id}` : id;
}
