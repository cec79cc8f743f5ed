import type { ChannelProbeResult } from "../descriptor.js";

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
  const host = new URL(root).host;
  let response: Response;
  try {
    response = await fetch(`${root}/bot${token}/getMe`, { method: "POST", signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return { ok: false, problem: `cannot reach ${host}: ${scrub(networkReason(error, timeoutMs), token)}` };
  }
  const body = (await response.json().catch(() => undefined)) as
    | { ok?: boolean; description?: string; result?: { username?: string } }
    | undefined;
  if (response.status === 401) return { ok: false, problem: "telegram rejected the bot token (401 Unauthorized)" };
  if (!response.ok || body?.ok !== true) {
    const description = body?.description ?? response.statusText;
    return { ok: false, problem: scrub(`${host} answered getMe with ${response.status} ${description}`, token) };
  }
  return { ok: true, detail: `getMe on ${host} answers as @${body.result?.username ?? "?"}` };
}

/** The real cause of a failed fetch: a timeout, or the socket error undici wraps in `cause` (ECONNREFUSED, ENOTFOUND...). */
function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${timeoutMs / 1000} s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function scrub(text: string, token: string): string {
  return text.split(token).join("***");
}
