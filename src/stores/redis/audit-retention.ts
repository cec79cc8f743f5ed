import type { RedisConnection } from "./connection.js";

/**
 * How long the audit stream keeps events. The stream is the audit log and the feed every instance tails, so it is
 * trimmed from its oldest end: by age (stream ids are Redis server time) and/or by length, approximately (`~`, whole
 * stream nodes at a time, cheap). A reader that falls behind the trim point notices and resynchronises (AuditFeed).
 */
export interface AuditRetention {
  /** Events older than this are trimmed; null keeps them for ever. */
  maxAgeMs: number | null;
  /** At most about this many events are kept; null for no limit. */
  maxLength: number | null;
}

export const DEFAULT_AUDIT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** How often each store trims (and once when it opens). */
const TRIM_INTERVAL_MS = 60_000;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,12})(ms|s|m|h|d)?$/;

/** "7d", "12h", "30m", "90s", "500ms" or plain milliseconds; "0" keeps events for ever. */
function durationMs(text: string, field: string): number {
  const match = DURATION.exec(text.trim());
  if (!match)
    throw new TypeError(
      `redis ${field} must be a duration such as 7d, 12h, 30m or 0 (keep for ever), not "${text.slice(0, 40)}"`,
    );
  return Number(match[1]) * UNIT_MS[(match[2] ?? "ms") as keyof typeof UNIT_MS];
}

function count(text: string, field: string): number {
  if (!/^\d{1,12}$/.test(text.trim()))
    throw new TypeError(`redis ${field} must be a whole number of events (0 for no limit)`);
  return Number(text);
}

function option(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${field} must be a whole number >= 0 (0 turns the limit off)`);
  }
  return value;
}

function agree(
  fromUrl: number | undefined,
  fromOptions: number | undefined,
  param: string,
  field: string,
): number | undefined {
  if (fromUrl !== undefined && fromOptions !== undefined && fromUrl !== fromOptions) {
    throw new TypeError(`redis audit retention given twice and differently: in the URL (?${param}=) and as ${field}`);
  }
  return fromUrl ?? fromOptions;
}

/**
 * The retention from the store URL (`?auditRetention=7d&auditMaxLength=100000`, removed from `params`) and/or the
 * options (`auditRetentionMs`, `auditMaxLength`); given both ways they must agree. Default: 7 days, no length limit.
 */
export function resolveAuditRetention(
  params: URLSearchParams,
  options: { auditRetentionMs?: unknown; auditMaxLength?: unknown },
): AuditRetention {
  const ageParam = params.get("auditRetention");
  const lengthParam = params.get("auditMaxLength");
  params.delete("auditRetention");
  params.delete("auditMaxLength");
  const age = agree(
    ageParam === null ? undefined : durationMs(ageParam, "?auditRetention"),
    option(options.auditRetentionMs, "auditRetentionMs"),
    "auditRetention",
    "auditRetentionMs",
  );
  const length = agree(
    lengthParam === null ? undefined : count(lengthParam, "?auditMaxLength"),
    option(options.auditMaxLength, "auditMaxLength"),
    "auditMaxLength",
    "auditMaxLength",
  );
  return {
    maxAgeMs: age === undefined ? DEFAULT_AUDIT_RETENTION_MS : age === 0 ? null : age,
    maxLength: length === undefined || length === 0 ? null : length,
  };
}

/**
 * Trims the audit stream when the store opens and every minute after (XTRIM MINID ~ against the server's clock,
 * XTRIM MAXLEN ~). Every instance trims with its own setting, so give them all the same one. Failures are ignored:
 * the next round tries again, and nothing waits on trimming.
 */
export class AuditTrimmer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly conn: RedisConnection,
    private readonly stream: string,
    readonly retention: AuditRetention,
  ) {}

  /** Trims once now (resolving when done, never rejecting), then every minute in the background. */
  async start(): Promise<void> {
    if (this.retention.maxAgeMs === null && this.retention.maxLength === null) return;
    this.timer = setInterval(() => void this.trimQuietly(), TRIM_INTERVAL_MS);
    this.timer.unref();
    await this.trimQuietly();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Removes what the retention no longer keeps; resolves to how many events went. */
  async trim(): Promise<number> {
    const { maxAgeMs, maxLength } = this.retention;
    return this.conn.run(async (deadline) => {
      let removed = 0;
      if (maxAgeMs !== null) {
        const time = (await this.conn.command(["TIME"])) as unknown[];
        const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
        const minId = Math.max(0, nowMs - maxAgeMs);
        deadline.check();
        removed += Number(await this.conn.command(["XTRIM", this.stream, "MINID", "~", String(minId)]));
      }
      if (maxLength !== null) {
        deadline.check();
        removed += Number(await this.conn.command(["XTRIM", this.stream, "MAXLEN", "~", String(maxLength)]));
      }
      return removed;
    });
  }

  private async trimQuietly(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.trim();
    } catch {
      // Redis away or slow: the next round trims
    } finally {
      this.running = false;
    }
  }
}
