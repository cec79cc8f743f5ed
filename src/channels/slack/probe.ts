import type { ChannelProbeResult } from "../descriptor.js";
import { isProbeProblem, probeProblem, probeRequest } from "../probe-request.js";

/** The Web API root when `apiUrl` is not set (the Web API client's default). */
export const SLACK_API_URL = "https://slack.com/api/";

/** A bot token from OAuth & Permissions: `xoxb-` then dash-separated parts. */
const BOT_TOKEN_SHAPE = /^xoxb-[A-Za-z0-9-]{10,}$/;

/** auth.test errors that mean the token itself is refused (Slack answers HTTP 200 with `{ ok: false, error }`). */
const REFUSED = new Set(["invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"]);

/**
 * Checks a Slack bot token the way `start` needs it: its `xoxb-` shape, then `auth.test` on the Web API within
 * `timeoutMs`. The token and the signing secret are scrubbed from every message this returns.
 */
export async function probeSlack(
  botToken: string,
  signingSecret: string,
  apiUrl: string | undefined,
  timeoutMs: number,
): Promise<ChannelProbeResult> {
  const secrets = [botToken, signingSecret];
  if (/^(xox[a-z]|xapp)-/.test(botToken) && !botToken.startsWith("xoxb-")) {
    return {
      ok: false,
      problem: `the bot token starts with ${botToken.slice(0, botToken.indexOf("-") + 1)}, not xoxb-: use the Bot User OAuth Token (OAuth & Permissions)`,
    };
  }
  if (!BOT_TOKEN_SHAPE.test(botToken))
    return { ok: false, problem: "the bot token is not an xoxb- token; copy the Bot User OAuth Token again" };
  if (/^xox[a-z]-/.test(signingSecret) || signingSecret === botToken)
    return { ok: false, problem: "the signing secret is a token; copy the Signing Secret (Basic Information) instead" };
  const root = (apiUrl ?? SLACK_API_URL).replace(/\/*$/, "/");
  const answer = await probeRequest(
    `${root}auth.test`,
    { method: "POST", headers: { authorization: `Bearer ${botToken}` } },
    timeoutMs,
    secrets,
  );
  if (isProbeProblem(answer)) return answer;
  const body = answer.body as { ok?: boolean; error?: string; team?: string; user?: string } | undefined;
  if (body?.ok === false && REFUSED.has(body.error ?? ""))
    return { ok: false, problem: `slack rejected the bot token (auth.test: ${body.error})` };
  if (answer.status !== 200 || body?.ok !== true) {
    const reason = body?.error ?? answer.statusText;
    return probeProblem(`${answer.host} answered auth.test with ${answer.status} ${reason}`, secrets);
  }
  return {
    ok: true,
    detail: `auth.test on ${answer.host} answers as ${body.user ?? "?"} in ${body.team ?? "?"}; signing secret set (HTTP mode)`,
  };
}
