import type { ChannelProbeResult } from "../descriptor.js";
import { isProbeProblem, probeProblem, probeRequest } from "../probe-request.js";

/** The Bot API root when `apiRoot` is not set. */
export const TELEGRAM_API_ROOT = "https://api.telegram.org";

/** A bot token as @BotFather hands it out: the bot's numeric id, a colon, and about 35 url-safe characters. */
const TOKEN_SHAPE = /^\d+:[A-Za-z0-9_-]{30,}$/;

/**
 * Checks a Telegram bot token the way `start` needs it: its shape, then `getMe` on the Bot API within `timeoutMs`.
 * The token is in the request path only; it is scrubbed from every message this returns.
 */
export async function probeTelegram(
  token: string,
  apiRoot: string | undefined,
  timeoutMs: number,
): Promise<ChannelProbeResult> {
  if (!TOKEN_SHAPE.test(token)) {
    return {
      ok: false,
      problem: "the bot token is not in the form <digits>:<about 35 characters>; copy it again from @BotFather",
    };
  }
  const root = (apiRoot ?? TELEGRAM_API_ROOT).replace(/\/+$/, "");
  const answer = await probeRequest(`${root}/bot${token}/getMe`, { method: "POST" }, timeoutMs, [token]);
  if (isProbeProblem(answer)) return answer;
  const body = answer.body as { ok?: boolean; description?: string; result?: { username?: string } } | undefined;
  if (answer.status === 401) return { ok: false, problem: "telegram rejected the bot token (401 Unauthorized)" };
  if (answer.status !== 200 || body?.ok !== true) {
    const description = body?.description ?? answer.statusText;
    return probeProblem(`${answer.host} answered getMe with ${answer.status} ${description}`, [token]);
  }
  return { ok: true, detail: `getMe on ${answer.host} answers as @${body.result?.username ?? "?"}` };
}
