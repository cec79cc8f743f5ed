import { setTimeout as sleep } from "node:timers/promises";
import type { Bot } from "grammy";
import type { Update } from "grammy/types";
import type { GatewayLogger } from "../../core/context.js";
import type { HeldLease, LeaseKeeper } from "../../core/lease-keeper.js";
import type { FirstSighting } from "../seen-once.js";
import { errorName } from "../redact.js";
import type { ChannelStatus } from "../status.js";

export interface PollingOptions {
  channelType: string;
  allowedUpdates: readonly string[];
  timeoutSeconds: number;
  status: ChannelStatus;
  logger: () => GatewayLogger;
  /** First wait after a 409 Conflict or a failed getUpdates; it doubles up to 30 s. */
  backoffMs: number;
  /** Consecutive conflicts before the channel shows degraded (a brief overlap during a restart does not). */
  degradedAfter: number;
  /** The lease on this bot's long poll: only its holder polls, and it commits the update offset under it. */
  keeper: LeaseKeeper;
  /** Seen-once keys shared by every instance: an update redelivered after a failover is not handled again. */
  firstSighting: FirstSighting;
  /** The clock the offset's age is measured with (default Date.now). */
  now?: () => number;
}

/**
 * How long a stored update offset is used. Telegram keeps an update for at most 24 hours, so an offset older than that
 * can no longer keep a handled update from coming again, and after a week without updates Telegram numbers the next
 * update at random, maybe below the offset: getUpdates with that offset would confirm (drop) it and every update after
 * it until the ids climbed past the offset. So an offset older than this is not used: getUpdates without one returns
 * the earliest update Telegram has not had confirmed (those before it were confirmed by the calls that followed them).
 */
export const OFFSET_TRUST_MS = 24 * 60 * 60_000;

/** The committed cursor: the next offset and when it was committed. */
interface OffsetCursor {
  offset: number;
  at: number;
}

/** Reads a committed cursor; a bare number (written before the time was kept) counts as committed now. */
export function readOffsetCursor(cursor: string | null, now: number): OffsetCursor | null {
  if (cursor === null) return null;
  if (/^\d+$/.test(cursor)) return { offset: Number(cursor), at: now };
  try {
    const value = JSON.parse(cursor) as Partial<OffsetCursor>;
    if (Number.isSafeInteger(value.offset) && Number.isFinite(value.at))
      return { offset: value.offset!, at: value.at! };
  } catch {
    // not a cursor of ours: start without an offset
  }
  return null;
}

const MAX_BACKOFF_MS = 30_000;
/**
 * How long an instance's claim on one update lasts, in lease times. The claim is taken before the update is handled, so
 * a holder that dies (or is paused) while handling it keeps others off it until the claim lapses; then the next holder,
 * which starts at the last committed offset, handles it. Two lease times: longer than any takeover.
 */
const UPDATE_CLAIM_LEASES = 2;

/** The Bot API error code of a failed call, when it is one. */
function errorCode(error: unknown): number | undefined {
  const code = (error as { error_code?: unknown } | null)?.error_code;
  return typeof code === "number" ? code : undefined;
}

/**
 * Long polling under a lease: of all gateway instances configured with this bot, only the lease holder calls
 * getUpdates. The next update offset lives in the store, committed under the lease's fencing token after each update
 * with the time, so the instance that takes over after a failover continues where the last commit left off; an offset
 * over a day old is not used (OFFSET_TRUST_MS: Telegram's ids restart at random after a week without updates). Each update is claimed
 * (a seen-once key lasting two lease times) before it is handled: an update the old holder was handling when it died is
 * handled by the next holder once that claim lapses, never lost and never by two instances at once (only one handled
 * to the end but not yet committed comes again). Before each update the holder checks its
 * lease (a process paused past its lease steps down instead of acting), and a refused commit ends its turn.
 * A 409 Conflict (a process outside the lease polls with this token, or a webhook is set) is logged and retried after
 * a growing wait, showing degraded only while it persists; a 401 (the token was revoked) is final.
 */
export class TelegramPoller {
  private conflicts = 0;
  private failures = 0;
  private fatal = false;

  constructor(
    private readonly bot: Bot,
    private readonly options: PollingOptions,
  ) {}

  /** Competes for the lease and polls while it holds it. */
  start(): void {
    this.options.keeper.run((held) => this.poll(held));
  }

  /** Stops polling (an open getUpdates is aborted) and releases the lease. */
  stop(): Promise<void> {
    return this.options.keeper.stop();
  }

  private async poll(held: HeldLease): Promise<void> {
    const { logger, status, channelType } = this.options;
    if (this.fatal) return held.signal.aborted ? undefined : untilAborted(held.signal);
    const now = this.options.now ?? Date.now;
    const stored = readOffsetCursor(held.cursor, now());
    let offset = stored?.offset;
    let offsetAt = stored?.at ?? 0;
    const dropStaleOffset = (): void => {
      if (offset === undefined || now() - offsetAt <= OFFSET_TRUST_MS) return;
      logger().info("telegram polling: the stored update offset is over a day old; polling without it", {
        channelType,
        staleOffset: offset,
      });
      offset = undefined;
    };
    dropStaleOffset();
    logger().info("telegram polling: this instance holds the bot's long poll", {
      channelType,
      fromOffset: offset ?? null,
    });
    while (held.valid() && !this.fatal) {
      dropStaleOffset();
      let updates: Update[];
      try {
        updates = await this.bot.api.getUpdates(
          {
            ...(offset === undefined ? {} : { offset }),
            timeout: this.options.timeoutSeconds,
            allowed_updates: [...this.options.allowedUpdates] as never,
          },
          // grammY types its signal with the abort-controller shim; Node's AbortSignal is what it gets at run time.
          held.signal as Parameters<Bot["api"]["getUpdates"]>[1],
        );
      } catch (error) {
        if (held.signal.aborted) return;
        await this.failed(error, held.signal);
        continue;
      }
      this.conflicts = 0;
      this.failures = 0;
      status.ok();
      for (const update of updates) {
        if (!held.valid()) return;
        try {
          const claimMs = UPDATE_CLAIM_LEASES * this.options.keeper.ttlMs;
          if (!(await this.options.firstSighting(`update:${this.bot.botInfo.id}:${update.update_id}`, claimMs))) {
            // An earlier holder claimed it and died or stalled before committing past it: it is neither dropped nor
            // handled twice at once; fetched again once that claim has lapsed (the offset stays where it is).
            logger().info("telegram update claimed by an earlier holder; fetched again when its claim lapses", {
              channelType,
            });
            await sleep(Math.min(claimMs, this.options.backoffMs * 5), undefined, { signal: held.signal }).catch(
              () => undefined,
            );
            break;
          }
          await this.bot.handleUpdate(update);
        } catch (error) {
          // The store could not say whether it was seen: not handled, not committed; it comes again on the next poll.
          logger().warn("telegram update not handled now: the store did not answer; it is fetched again", {
            channelType,
            error: errorName(error),
          });
          await sleep(this.options.backoffMs, undefined, { signal: held.signal }).catch(() => undefined);
          break;
        }
        offset = update.update_id + 1;
        offsetAt = now();
        if (!(await held.commit(JSON.stringify({ offset, at: offsetAt })))) return;
      }
    }
    // The token was refused for good: keep the lease quietly (no other instance can poll with it either) until stopped.
    if (this.fatal) await untilAborted(held.signal);
  }

  private async failed(error: unknown, signal: AbortSignal): Promise<void> {
    const { logger, status, channelType } = this.options;
    const code = errorCode(error);
    if (code === 401) {
      this.fatal = true;
      status.degraded("polling stopped: the Bot API refused the bot token (401)");
      return;
    }
    let waitMs: number;
    if (code === 409) {
      this.conflicts++;
      waitMs = Math.min(MAX_BACKOFF_MS, this.options.backoffMs * 2 ** (this.conflicts - 1));
      logger().warn(
        "telegram polling conflict (409): another process polls with this token or a webhook is set; retrying",
        {
          channelType,
          attempt: this.conflicts,
          retryInMs: waitMs,
        },
      );
      if (this.conflicts >= this.options.degradedAfter) {
        status.degraded("polling conflict (409): another process polls with this bot token or a webhook is set");
      }
    } else {
      this.failures++;
      waitMs = Math.min(MAX_BACKOFF_MS, this.options.backoffMs * 2 ** (this.failures - 1));
      logger().warn("telegram getUpdates failed; retrying", {
        channelType,
        attempt: this.failures,
        retryInMs: waitMs,
        error: errorName(error),
      });
      if (this.failures >= this.options.degradedAfter) status.degraded("polling: getUpdates keeps failing");
    }
    await sleep(waitMs, undefined, { signal }).catch(() => undefined);
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}
