import type { GatewayLogger } from "../../core/context.js";
import { connectWithDeadline } from "../connect-with-deadline.js";
import type { ChannelStatus } from "../status.js";
import { SLACK_API_URL } from "./probe.js";

/** What this needs of the Bolt module (loaded by the adapter at start). */
type Bolt = Pick<typeof import("@slack/bolt"), "webApi" | "LogLevel">;

export interface SlackConnectOptions {
  apiUrl?: string | undefined;
  connectTimeoutMs?: number | undefined;
  connectBackoffMs?: number | undefined;
  signal: AbortSignal;
  channelType: string;
  logger: () => GatewayLogger;
  status: ChannelStatus;
}

/**
 * The bot's identity from `auth.test`, asked with a deadline per attempt (a client of its own without retries, so
 * each wait is one deadline and one log line) and retried while Slack does not answer; an `ok: false` answer
 * (`invalid_auth`, `token_revoked`, …) refuses the start.
 */
export function slackIdentity(
  bolt: Bolt,
  botToken: string,
  options: SlackConnectOptions,
): Promise<{ bot_id?: string; user_id?: string }> {
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const checker = new bolt.webApi.WebClient(botToken, {
    timeout: timeoutMs,
    retryConfig: { retries: 0 },
    logLevel: bolt.LogLevel.ERROR,
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
  });
  return connectWithDeadline(() => checker.auth.test(), slackAnswersLater, {
    call: "auth.test",
    timeoutMs,
    backoffMs: options.connectBackoffMs ?? 1_000,
    maxBackoffMs: 30_000,
    signal: options.signal,
    host: new URL(options.apiUrl ?? SLACK_API_URL).host,
    channelType: options.channelType,
    logger: options.logger,
    status: options.status,
  });
}

/** No answer, a rate limit or an HTTP error: Slack may answer later. An `ok: false` answer (invalid_auth…) refuses. */
function slackAnswersLater(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code !== "slack_webapi_platform_error";
}
