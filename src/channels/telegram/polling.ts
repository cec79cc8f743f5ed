import { setTimeout as sleep } from "node:timers/promises";
import type { Bot } from "grammy";
import type { GatewayLogger } from "../../core/context.js";
import type { ChannelStatus } from "../status.js";

export interface PollingOptions {
  channelType: string;
  allowedUpdates: readonly string[];
  timeoutSeconds: number;
  status: ChannelStatus;
  logger: () => GatewayLogger;
  /** First wait after a 409 Conflict; it doubles up to 30 s. */
  backoffMs: number;
  /** Consecutive conflicts before the channel shows degraded (a brief overlap during a restart does not). */
  degradedAfter: number;
}

const MAX_BACKOFF_MS = 30_000;

/** The Bot API error code of a failed call, when it is one. */
function errorCode(error: unknown): number | undefined {
  const code = (error as { error_code?: unknown } | null)?.error_code;
  return typeof code === "number" ? code : undefined;
}

/**
 * grammY's long polling, kept alive. grammY stops polling for good on 409 Conflict (another getUpdates with the same
 * token, e.g. the old process during a restart, or a webhook set meanwhile); here a conflict is logged and polling starts
 * again after a growing wait, and the channel shows degraded only while conflicts persist. Any other end of polling (401:
 * the token was revoked) is final: the channel shows degraded and says why. Every successful getUpdates marks it ok.
 */
export class TelegramPoller {
  private readonly aborter = new AbortController();
  private conflicts = 0;
  /** Settles when polling has ended for good (stopped or failed). */
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly bot: Bot,
    private readonly options: PollingOptions,
  ) {
    bot.api.config.use(async (call, method, payload, signal) => {
      const result = await call(method, payload, signal);
      if (method === "getUpdates" && result.ok) {
        this.conflicts = 0;
        options.status.ok();
      }
      return result;
    });
  }

  /** Resolves once polling runs; rejects when the first start fails (the token is refused, the API is unreachable). */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.done = this.loop(resolve, reject);
    });
  }

  stop(): void {
    this.aborter.abort();
  }

  private async loop(started: () => void, failed: (error: Error) => void): Promise<void> {
    let first = true;
    const { logger, status, channelType } = this.options;
    while (!this.aborter.signal.aborted) {
      try {
        await this.bot.start({
          allowed_updates: [...this.options.allowedUpdates] as never,
          timeout: this.options.timeoutSeconds,
          onStart: () => {
            if (first) started();
            first = false;
          },
        });
        return; // stopped by stop()
      } catch (error) {
        if (first) return failed(error instanceof Error ? error : new Error(String(error)));
        if (this.aborter.signal.aborted) return;
        const code = errorCode(error);
        if (code !== 409) {
          status.degraded(code === 401 ? "polling stopped: the Bot API refused the bot token (401)" : "polling stopped: getUpdates failed");
          return;
        }
        this.conflicts++;
        const waitMs = Math.min(MAX_BACKOFF_MS, this.options.backoffMs * 2 ** (this.conflicts - 1));
        logger().warn("telegram polling conflict (409): another process polls with this token or a webhook is set; retrying", {
          channelType,
          attempt: this.conflicts,
          retryInMs: waitMs,
        });
        if (this.conflicts >= this.options.degradedAfter) {
          status.degraded("polling conflict (409): another process polls with this bot token or a webhook is set");
        }
        await sleep(waitMs, undefined, { signal: this.aborter.signal }).catch(() => undefined);
      }
    }
  }
}
