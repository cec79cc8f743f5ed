import type { JsonValue, PairedChannel, PendingKind } from "../../protocols/types.js";
import {
  nextRedeemFailure,
  senderKey,
  type ApproveInput,
  type FailureWindow,
  type NewPendingEntry,
} from "../shared.js";
import type { PairingRules, SenderRef } from "../types.js";
import type { SqlAuditLog } from "./audit.js";
import type { SqlDriver, SqlExecutor } from "./driver.js";
import { type PairingSql, pairingSql } from "./pairing-sql.js";

/** A pending row as read back: the inserted entry without its code (never stored), plus order and failure count. */
export type PendingRow = Omit<NewPendingEntry, "code"> & { seq: number; failures: number };

/** What generateCode asks before it writes, judged as after a sweep (see `SqlPairingTables.generateQuestions`). */
export interface GenerateQuestions {
  /** Expired entries wait for a sweep. */
  expired: boolean;
  /** When the sender's deny cooldown ends (0: none). */
  cooldownUntil: number;
  /** The code shown to the sender of a live request, if they have one. */
  existing: string | null;
  /** Live entries of the channel type (the cap). */
  live: number;
  /** The drawn code's hash is already a live entry's. */
  taken: boolean;
}

/** Text as drivers hand it back: a string, or UTF-8 bytes. */
function text(value: unknown): string {
  return typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : String(value ?? "");
}

/** Drivers hand numbers back as numbers, strings or bigints and text as strings or bytes: one shape for the rules. */
function toPending(row: Record<string, unknown>): PendingRow {
  return {
    hash: text(row.hash),
    seq: Number(row.seq),
    kind: text(row.kind) as PendingKind,
    channelType: text(row.channelType),
    channelId: text(row.channelId),
    userName: text(row.userName),
    firstMessage: text(row.firstMessage),
    display: text(row.display),
    createdAt: Number(row.createdAt),
    expiresAt: Number(row.expiresAt),
    failures: Number(row.failures),
  };
}

/** Senders asked about in one statement. */
const PAIRED_BATCH = 256;

/**
 * The statements of the pairing tables (pending, paired, deny_cooldowns, redeem_failures), each on the executor it is
 * given: the store (pairing.ts) decides which run together in one write transaction, these only read and write rows.
 */
export class SqlPairingTables {
  /** Every statement, built once (see pairing-sql.ts). */
  private readonly sql: PairingSql;

  constructor(
    private readonly driver: SqlDriver,
    private readonly log: SqlAuditLog,
    private readonly rules: PairingRules,
  ) {
    this.sql = pairingSql(driver.dialect);
  }

  /** Every question generateCode asks, in one round trip (the caller holds the write lock). */
  async generateQuestions(tx: SqlExecutor, entry: NewPendingEntry, now: number): Promise<GenerateQuestions> {
    const found = await tx.get<Record<string, unknown>>(this.sql.generateQuestions, [
      now,
      entry.channelType,
      entry.channelId,
      entry.channelType,
      entry.channelId,
      now,
      entry.channelType,
      now,
      entry.hash,
      now,
    ]);
    return {
      expired: Number(found?.expired ?? 0) > 0,
      cooldownUntil: Number(found?.until ?? 0),
      existing: found?.existing !== null && found?.existing !== undefined ? String(found.existing) : null,
      live: Number(found?.live ?? 0),
      taken: Number(found?.taken ?? 0) > 0,
    };
  }

  async insertPending(tx: SqlExecutor, entry: NewPendingEntry, now: number): Promise<void> {
    await tx.execute(this.sql.insertPending, [
      entry.hash,
      entry.kind,
      entry.channelType,
      entry.channelId,
      entry.userName,
      this.driver.dialect.textAsBytes ? Buffer.from(entry.firstMessage, "utf8") : entry.firstMessage,
      entry.display,
      now,
      entry.expiresAt,
    ]);
  }

  deletePending(tx: SqlExecutor, hash: string): Promise<unknown> {
    return tx.execute(this.sql.deletePending, [hash]);
  }

  async pendingByHash(tx: SqlExecutor, hash: string): Promise<PendingRow | null> {
    const row = await tx.get<Record<string, unknown>>(this.sql.pendingByHash, [hash]);
    return row ? toPending(row) : null;
  }

  /** The live request of one sender, or null. */
  async requestOf(on: SqlExecutor, channelType: string, channelId: string): Promise<PendingRow | null> {
    const row = await on.get<Record<string, unknown>>(this.sql.requestOf, [channelType, channelId]);
    return row ? toPending(row) : null;
  }

  /**
   * requestOf answered at once, when the driver can read now (SQLite outside a write turn) and no sweep is due;
   * undefined: take the ordinary path (readAfterSweep).
   */
  requestOfNow(now: number, channelType: string, channelId: string): PendingRow | null | undefined {
    if (this.driver.readNow?.(this.sql.anyExpired, [now]) !== null) return undefined;
    const row = this.driver.readNow<Record<string, unknown>>(this.sql.requestOf, [channelType, channelId]);
    return row === undefined ? undefined : row && toPending(row);
  }

  /** Pending entries in creation order, of one channel type or all. */
  async pendingRows(on: SqlExecutor, channelType?: string): Promise<PendingRow[]> {
    // No entry's channel type holds U+0000 (nor can PostgreSQL's text): such a filter matches nothing.
    if (channelType?.includes("\u0000")) return [];
    const found =
      channelType === undefined
        ? await on.all<Record<string, unknown>>(this.sql.listPending)
        : await on.all<Record<string, unknown>>(this.sql.listPendingOfType, [channelType]);
    return found.map(toPending);
  }

  /** pendingRows answered at once, like requestOfNow; undefined: take the ordinary path. */
  pendingRowsNow(now: number, channelType?: string): PendingRow[] | undefined {
    if (this.driver.readNow?.(this.sql.anyExpired, [now]) !== null) return undefined;
    if (channelType?.includes("\u0000")) return [];
    const found =
      channelType === undefined
        ? this.driver.allNow?.<Record<string, unknown>>(this.sql.listPending)
        : this.driver.allNow?.<Record<string, unknown>>(this.sql.listPendingOfType, [channelType]);
    return found?.map(toPending);
  }

  /** Whether anything pending has expired at `now` (a sweep is due). */
  async anyExpired(on: SqlExecutor, now: number): Promise<boolean> {
    return (await on.get(this.sql.anyExpired, [now])) !== null;
  }

  /** Removes every expired pending entry, recording each as `expired`, oldest first. */
  async sweep(tx: SqlExecutor, now: number): Promise<void> {
    const expired = (await tx.all<Record<string, unknown>>(this.sql.expired, [now])).map(toPending);
    if (expired.length === 0) return;
    await tx.execute(this.sql.deleteExpired, [now]);
    for (const entry of expired) await this.logExpired(tx, entry, now, {});
  }

  /** A wrong redemption of a request's code; past the limit the code is invalidated. */
  async countCodeFailure(tx: SqlExecutor, entry: PendingRow, now: number): Promise<void> {
    if (entry.failures + 1 < this.rules.codeFailureLimit) {
      await tx.execute(this.sql.setPendingFailures, [entry.failures + 1, entry.hash]);
      return;
    }
    await this.deletePending(tx, entry.hash);
    await this.logExpired(tx, entry, now, { reason: "too many wrong redemptions" });
  }

  /** The audit line of a pending entry the system ended: expired by time, or invalidated by wrong redemptions. */
  private async logExpired(
    tx: SqlExecutor,
    { channelType, channelId, kind }: Pick<PendingRow, "channelType" | "channelId" | "kind">,
    at: number,
    detail: Record<string, JsonValue>,
  ): Promise<void> {
    await this.log.append(tx, { at, type: "expired", channelType, channelId, actor: "system", kind, detail });
  }

  async failureWindow(tx: SqlExecutor, channelType: string, redeemer: string): Promise<FailureWindow | null> {
    const row = await tx.get<Record<string, unknown>>(this.sql.failureWindow, [channelType, redeemer]);
    return row
      ? { windowStart: Number(row.window_start), count: Number(row.count), lockedUntil: Number(row.locked_until) }
      : null;
  }

  /** A failed redemption by one redeemer on one channel type; past the limit inside the window they are locked out. */
  async countRedeemFailure(
    tx: SqlExecutor,
    input: ApproveInput,
    previous: FailureWindow | null,
    now: number,
  ): Promise<void> {
    const { window, events } = nextRedeemFailure(
      previous ?? undefined,
      this.rules,
      now,
      input.channelType,
      input.userId,
    );
    for (const event of events) await this.log.append(tx, event);
    await tx.execute(this.sql.setFailureWindow, [
      input.channelType,
      input.userId,
      window.windowStart,
      window.count,
      window.lockedUntil,
    ]);
  }

  /** Failure limits count consecutive failures (NIST SP 800-63B): a success starts the redeemer's count afresh. */
  forgetRedeemFailures(tx: SqlExecutor, channelType: string, redeemer: string): Promise<unknown> {
    return tx.execute(this.sql.resetFailureWindow, [channelType, redeemer]);
  }

  /** A denied sender may not ask again until `until`. */
  startCooldown(tx: SqlExecutor, channelType: string, channelId: string, until: number): Promise<unknown> {
    return tx.execute(this.sql.setCooldown, [channelType, channelId, until]);
  }

  /** Drops cooldowns and failure windows that can no longer affect anything, so those tables stay small. */
  async forgetInert(tx: SqlExecutor, now: number): Promise<void> {
    await tx.execute(this.sql.forgetCooldowns, [now]);
    await tx.execute(this.sql.forgetFailureWindows, [now, now - this.rules.redeemFailureWindowMs]);
  }

  /** Writes one pairing; a renewed pairing keeps its seq (its place among pairings of the same millisecond). */
  upsertPaired(tx: SqlExecutor, p: Required<PairedChannel>): Promise<unknown> {
    return tx.execute(this.sql.upsertPaired, [p.channelType, p.channelId, p.label, p.pairedAt, p.approvedBy]);
  }

  /** Unpairs one sender and withdraws their request; whether either existed. */
  async unpair(tx: SqlExecutor, channelType: string, channelId: string): Promise<boolean> {
    const unpaired = await tx.execute(this.sql.deletePaired, [channelType, channelId]);
    const withdrawn = await tx.execute(this.sql.deleteRequestOf, [channelType, channelId]);
    return unpaired > 0 || withdrawn > 0;
  }

  async pairedAmong(senders: readonly SenderRef[]): Promise<boolean[]> {
    const paired = new Set<string>();
    for (let start = 0; start < senders.length; start += PAIRED_BATCH) {
      const batch = senders.slice(start, start + PAIRED_BATCH);
      const rows = await this.driver.all<{ channel_type: string; channel_id: string }>(
        this.sql.pairedAmong(batch.length),
        batch.flatMap((s) => [s.channelType, s.channelId]),
      );
      for (const row of rows) paired.add(senderKey(String(row.channel_type), String(row.channel_id)));
    }
    return senders.map((s) => paired.has(senderKey(s.channelType, s.channelId)));
  }

  /** Every pairing in the order made, or those of one channel type (an index range, see pairing-sql.ts). */
  async pairedRows(channelType?: string): Promise<PairedChannel[]> {
    // No pairing's channel type holds U+0000 (nor can PostgreSQL's text): such a filter matches nothing.
    if (channelType?.includes("\u0000")) return [];
    const rows =
      channelType === undefined
        ? await this.driver.all<Record<string, unknown>>(this.sql.listPaired)
        : await this.driver.all<Record<string, unknown>>(this.sql.listPairedOfType, [channelType]);
    return rows.map((row) => ({
      channelId: String(row.channel_id),
      channelType: String(row.channel_type),
      label: String(row.label),
      pairedAt: Number(row.paired_at),
      approvedBy: String(row.approved_by),
    }));
  }
}
