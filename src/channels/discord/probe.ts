import type { ChannelProbeResult } from "../descriptor.js";
import { isProbeProblem, probeProblem, probeRequest } from "../probe-request.js";

/** The REST root when `apiRoot` is not set (discord.js's default); the probe adds the API version. */
export const DISCORD_API_ROOT = "https://discord.com/api";

/** A bot token from the Developer Portal: three base64url parts joined by dots (user id, timestamp, HMAC). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$/;

/**
 * Checks a Discord bot token the way `start` needs it: its shape, then `GET /users/@me` with `Authorization: Bot
 * <token>` on the REST API within `timeoutMs` (Discord answers 401 `{ message: "401: Unauthorized", code: 0 }` for a
 * token it does not know). The token is scrubbed from every message this returns.
 */
export async function probeDiscord(
  token: string,
  apiRoot: string | undefined,
  timeoutMs: number,
): Promise<ChannelProbeResult> {
  if (/^bot\s/i.test(token))
    return { ok: false, problem: 'the bot token starts with "Bot "; give the token alone, without the prefix' };
  if (!TOKEN_SHAPE.test(token)) {
    return {
      ok: false,
      problem:
        "the bot token is not in the form <part>.<part>.<part>; copy it again from the Developer Portal (Bot > Reset Token)",
    };
  }
  const root = (apiRoot ?? DISCORD_API_ROOT).replace(/\/+$/, "");
  const answer = await probeRequest(
    `${root}/v10/users/@me`,
    { headers: { authorization: `Bot ${token}` } },
    timeoutMs,
    [token],
  );
  if (isProbeProblem(answer)) return answer;
  const body = answer.body as { message?: string; code?: number; username?: string; id?: string } | undefined;
  if (answer.status === 401) return { ok: false, problem: "discord rejected the bot token (401 Unauthorized)" };
  if (answer.status !== 200 || typeof body?.username !== "string") {
    const message = body?.message ?? answer.statusText;
    return probeProblem(`${answer.host} answered GET /users/@me with ${answer.status} ${message}`, [token]);
  }
  return { ok: true, detail: `GET /users/@me on ${answer.host} answers as ${body.username} (id ${body.id ?? "?"})` };
}
