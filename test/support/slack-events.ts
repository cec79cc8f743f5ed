import { createHmac } from "node:crypto";

/** Signing secret and bot token the Slack tests share with the local Web API. */
export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const BOT_TOKEN = "xoxb-local-test-token-000000000000";

/** Slack's v0 request signature over `v0:<timestamp>:<raw body>`. */
export function sign(body: string, timestamp: number, secret = SIGNING_SECRET): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

/** POSTs a body signed as Slack signs it (optionally with extra headers such as X-Slack-Retry-Num); returns the status. */
export async function postSigned(
  url: string,
  body: string,
  contentType: string,
  options: { secret?: string; timestamp?: number; headers?: Record<string, string> } = {},
): Promise<number> {
  const ts = options.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": contentType,
      "x-slack-request-timestamp": String(ts),
      "x-slack-signature": sign(body, ts, options.secret),
      ...options.headers,
    },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

let eventId = 1;
/** An Events API `message.im` delivery; each call is a new event (its own event_id) unless one is given. */
export function messageEvent(
  user: string,
  text: string,
  id = `Ev${eventId++}`,
  where: { channel?: string; channelType?: "im" | "channel" | "group"; threadParentUser?: string } = {},
): string {
  const ts = `1700000100.${String(eventId).padStart(6, "0")}`;
  const thread = where.threadParentUser
    ? { thread_ts: "1700000000.000001", parent_user_id: where.threadParentUser }
    : {};
  return JSON.stringify({
    token: "legacy",
    team_id: "T1",
    api_app_id: "A1",
    type: "event_callback",
    event_id: id,
    event_time: 1700000100,
    event: {
      type: "message",
      channel: where.channel ?? `D${user}`,
      channel_type: where.channelType ?? "im",
      user,
      text,
      ts,
      event_ts: ts,
      ...thread,
    },
  });
}

/** A signed-form body of a block_actions press of `actionId` (value: the card's token) on the card sent at `messageTs`. */
export function buttonPress(user: string, channel: string, actionId: string, value: string, messageTs: string): string {
  const payload = {
    type: "block_actions",
    team: { id: "T1", domain: "test" },
    user: { id: user, username: user, team_id: "T1" },
    api_app_id: "A1",
    token: "legacy",
    trigger_id: "1.2.3",
    container: { type: "message", message_ts: messageTs, channel_id: channel, is_ephemeral: false },
    channel: { id: channel, name: "directmessage" },
    message: { type: "message", ts: messageTs, text: "card" },
    response_url: "http://127.0.0.1:9/unused",
    actions: [
      {
        type: "button",
        action_id: actionId,
        block_id: "b1",
        value,
        action_ts: "1700000200.000001",
        text: { type: "plain_text", text: "x" },
      },
    ],
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}
