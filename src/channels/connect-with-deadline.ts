import { setTimeout as sleep } from "node:timers/promises";
import type { GatewayLogger } from "../core/context.js";
import { errorName } from "./redact.js";
import type { ChannelStatus } from "./status.js";

export interface ConnectOptions {
  /** The platform call that proves the connection, for log lines and /healthz ("getMe", "auth.test"). */
  call: string;
  /** Deadline of one attempt. */
  timeoutMs: number;
  /** First wait before trying again; doubles up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Aborted when the channel stops: connecting gives up. */
  signal: AbortSignal;
  /** host[:port] of the platform API, for log lines and the health reason. */
  host: string;
  channelType: string;
  logger: () => GatewayLogger;
  status: ChannelStatus;
}

/**
 * A channel's first call to its platform at start, with a deadline per attempt. It logs the call with its deadline;
 * while the platform does not answer (`answersLater(error)`: a network failure, no answer within the deadline, a rate
 * limit, a server error) it logs a line with the deadline and the next wait, shows the channel degraded, and tries
 * again; an answer that refuses the channel (its token) throws, as does stopping meanwhile.
 */
export async function connectWithDeadline<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  answersLater: (error: unknown) => boolean,
  options: ConnectOptions,
): Promise<T> {
  const { signal, host, channelType, call } = options;
  let waitMs = options.backoffMs;
  options.logger().info("connecting to the platform", { channelType, host, call, deadlineMs: options.timeoutMs });
  for (let tries = 1; ; tries++) {
    const deadline = AbortSignal.timeout(options.timeoutMs);
    try {
      const result = await attempt(AbortSignal.any([signal, deadline]));
      if (tries > 1) options.status.ok();
      return result;
    } catch (error) {
      if (signal.aborted) throw new Error(`${channelType} stopped while connecting to ${host}`);
      if (!answersLater(error)) throw error;
      const why = deadline.aborted ? `no answer within ${options.timeoutMs / 1000} s` : "cannot reach it";
      options.status.degraded(`${call} on ${host}: ${why}; retrying`);
      options.logger().warn("the platform did not answer; still connecting", {
        channelType,
        host,
        call,
        attempt: tries,
        deadlineMs: options.timeoutMs,
        retryInMs: waitMs,
        error: deadline.aborted ? `no answer within ${options.timeoutMs} ms` : errorName(error),
      });
      await sleep(waitMs, undefined, { signal }).catch(() => undefined);
      waitMs = Math.min(options.maxBackoffMs, waitMs * 2);
    }
  }
}
