import { setTimeout as sleep } from "node:timers/promises";
import type { Bot } from "grammy";
import type { GatewayLogger } from "../../core/context.js";
import { errorName } from "../redact.js";
import type { ChannelStatus } from "../status.js";

export interface ConnectOptions {
  /** Deadline of one getMe attempt. */
  timeoutMs: number;
  /** First wait before trying again; doubles up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Aborted when the channel stops: connecting gives up. */
  signal: AbortSignal;
  /** host[:port] of the Bot API, for log lines and the health reason. */
  host: string;
  channelType: string;
  logger: () => GatewayLogger;
  status: ChannelStatus;
}

/**
 * `bot.init()` (getMe) with a deadline per attempt. While the Bot API does not answer (network failure, no answer
 * within the deadline, 429, 5xx) it logs a line with the deadline and the next wait, shows the channel degraded, and
 * tries again; an answer that refuses the token (401, 404) throws, as does stopping meanwhile.
 */
export async function initWithDeadline(bot: Bot, options: ConnectOptions): Promise<void> {
  const { signal, host, channelType } = options;
  let waitMs = options.backoffMs;
  options.logger().info("telegram connecting to the Bot API (getMe)", {
    channelType,
    host,
    deadlineMs: options.timeoutMs,
  });
  for (let attempt = 1; ; attempt++) {
    const deadline = AbortSignal.timeout(options.timeoutMs);
    try {
      // grammY types its signal with the abort-controller shim; Node's AbortSignal is what it gets at run time.
      await bot.init(AbortSignal.any([signal, deadline]) as Parameters<Bot["init"]>[0]);
      if (attempt > 1) options.status.ok();
      return;
    } catch (error) {
      if (signal.aborted) throw new Error(`${channelType} stopped while connecting to ${host}`);
      if (!answersLater(error)) throw error;
      const why = deadline.aborted ? `no answer within ${options.timeoutMs / 1000} s` : "cannot reach it";
      options.status.degraded(`getMe on ${host}: ${why}; retrying`);
      options.logger().warn("telegram Bot API did not answer getMe; still connecting", {
        channelType,
        host,
        attempt,
        deadlineMs: options.timeoutMs,
        retryInMs: waitMs,
        error: deadline.aborted ? `no answer within ${options.timeoutMs} ms` : errorName(error),
      });
      await sleep(waitMs, undefined, { signal }).catch(() => undefined);
      waitMs = Math.min(options.maxBackoffMs, waitMs * 2);
    }
  }
}

/** A network failure, a timeout, a rate limit or a server error: the Bot API may answer later. */
function answersLater(error: unknown): boolean {
  const code = (error as { error_code?: unknown } | null)?.error_code;
  if (typeof code !== "number") return true;
  return code === 429 || code >= 500;
}
