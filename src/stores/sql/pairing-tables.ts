import type { PairedChannel, PendingKind } from "../../protocols/types.js";
import { nextRedeemFailure, type ApproveInput, type FailureWindow, type NewPendingEntry } from "../shared.js";
import type { PairingRules, SenderRef } from "../types.js";
import type { SqlAuditLog } from "./audit.js";
import type { SqlDriver, SqlExecutor } from "./driver.js";

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

const PENDING_COLUMNS = `hash, seq, kind, channel_type AS "channelType", channel_id AS "channelId", user_name AS "userName",
  first_message AS "firstMessage", display, created_at AS "createdAt", expires_at AS "expiresAt", failures`;

/** Drivers hand numbers back as numbers, strings or bigints and text as strings or bytes: one shape for the rules. */
function toPending(row: Record<string, unknown>): PendingRow {
  const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString("utf8") : String(value ?? ""));
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
  private readonly t: (name: string) => string;

  constructor(
    private readonly driver: SqlDriver,
    private readonly log: SqlAuditLog,
    private readonly rules: PairingRules,
  ) {
    this.t = (name) => driver.dialect.table(name);
  }

  /** Every question generateCode asks, in one round trip (the caller holds the write lock). */
  async generateQuestions(tx: SqlExecutor, entry: NewPendingEntry, now: number): Promise<GenerateQuestions> {
    const pending = this.t("pending");
    const live = "expires_at > ?";
    const found = await tx.get<Record<string, unknown>>(
      `SELECT (SELECT count(*) FROM ${pending} WHERE expires_at <= ?) AS expired,
         (SELECT until FROM ${this.t("deny_cooldowns")} WHERE channel_type = ? AND channel_id = ?) AS until,
         (SELECT display FROM ${pending} WHERE kind = 'request' AND channel_type = ? AND channel_id = ? AND ${live}) AS existing,
         (SELECT count(*) FROM ${pending} WHERE channel_type = ? AND ${live}) AS live,
         (SELECT count(*) FROM ${pending} WHERE hash = ? AND ${live}) AS taken`,
      [
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
      ],
    );
    return {
      expired: Number(found?.expired ?? 0) > 0,
      cooldownUntil: Number(found?.until ?? 0),
      existing: found?.existing !== null && found?.existing !== undefined ? String(found.existing) : null,
      live: Number(found?.live ?? 0),
      taken: Number(found?.taken ?? 0) > 0,
    };
  }

  async insertPending(tx: SqlExecutor, entry: NewPendingEntry, now: number): Promise<void> {
    const { seqValue } = this.driver.dialect;
    await tx.execute(
      `INSERT INTO ${this.t("pending")} (hash, kind, channel_type, channel_id, user_name, first_message, display, created_at, expires_at, failures${seqValue === null ? "" : ", seq"})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0${seqValue === null ? "" : `, ${seqValue}`})`,
      [
        entry.hash,
        entry.kind,
        entry.channelType,
        entry.channelId,
        entry.userName,
        Buffer.from(entry.firstMessage, "utf8"),
        entry.display,
        now,
        entry.expiresAt,
      ],
    );
  }

  async deletePending(tx: SqlExecutor, hash: string): Promise<void> {
    await tx.execute(`DELETE FROM ${this.t("pending")} WHERE hash = ?`, [hash]);
  }

  async pendingByHash(tx: SqlExecutor, hash: string): Promise<PendingRow | null> {
    const row = await tx.get<Record<string, unknown>>(
      `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")} WHERE hash = ?`,
      [hash],
    );
    return row ? toPending(row) : null;
  }

  /** The live request of one sender, or null. */
  async requestOf(on: SqlExecutor, channelType: string, channelId: string): Promise<PendingRow | null> {
    const row = await on.get<Record<string, unknown>>(
      `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")} WHERE kind = 'request' AND channel_type = ? AND channel_id = ?`,
      [channelType, channelId],
    );
    return row ? toPending(row) : null;
  }

  /** Pending entries in creation order, of one channel type or all. */
  async pendingRows(on: SqlExecutor, channelType?: string): Promise<PendingRow[]> {
    // No entry's channel type holds U+0000 (nor can PostgreSQL's text): such a filter matches nothing.
    if (channelType?.includes("\u0000")) return [];
    const where = channelType === undefined ? "" : "WHERE channel_type = ?";
    const found = await on.all<Record<string, unknown>>(
      `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")} ${where} ORDER BY created_at, seq`,
      channelType === undefined ? [] : [channelType],
    );
    return found.map(toPending);
  }

  /** Whether anything pending has expired at `now` (a sweep is due). */
  async anyExpired(on: SqlExecutor, now: number): Promise<boolean> {
    return (await on.get(`SELECT 1 AS x FROM ${this.t("pending")} WHERE expires_at <= ? LIMIT 1`, [now])) !== null;
  }

  /** Removes every expired pending entry, recording each as `expired`, oldest first. */
  async sweep(tx: SqlExecutor, now: number): Promise<void> {
    const expired = (
      await tx.all<Record<string, unknown>>(
        `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")} WHERE expires_at <= ? ORDER BY seq`,
        [now],
      )
    ).map(toPending);
    if (expired.length === 0) return;
    await tx.execute(`DELETE FROM ${this.t("pending")} WHERE expires_at <= ?`, [now]);
    for (const { channelType, channelId, kind } of expired) {
      await this.log.append(tx, {
        at: now,
        type: "expired",
        channelType,
        channelId,
        actor: "system",
        kind,
        detail: {},
      });
    }
  }

  /** A wrong redemption of a request's code; past the limit the code is invalidated. */
  async countCodeFailure(tx: SqlExecutor, entry: PendingRow, now: number): Promise<void> {
    if (entry.failures + 1 < this.rules.codeFailureLimit) {
      await tx.execute(`UPDATE ${this.t("pending")} SET failures = ? WHERE hash = ?`, [entry.failures + 1, entry.hash]);
      return;
    }
    await this.deletePending(tx, entry.hash);
    const { channelType, channelId, kind } = entry;
    await this.log.append(tx, {
      at: now,
      type: "expired",
      channelType,
      channelId,
      actor: "system",
      kind,
      detail: { reason: "too many wrong redemptions" },
    });
  }

  async failureWindow(tx: SqlExecutor, channelType: string, redeemer: string): Promise<FailureWindow | null> {
    const row = await tx.get<Record<string, unknown>>(
      `SELECT window_start, count, locked_until FROM ${this.t("redeem_failures")} WHERE channel_type = ? AND redeemer = ?`,
      [channelType, redeemer],
    );
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
    const columns = ["channel_type", "redeemer", "window_start", "count", "locked_until"];
    await tx.execute(
      this.driver.dialect.upsert(this.t("redeem_failures"), columns, ["channel_type", "redeemer"], columns.slice(2)),
      [input.channelType, input.userId, window.windowStart, window.count, window.lockedUntil],
    );
  }

  /** Failure limits count consecutive failures (NIST SP 800-63B): a success starts the redeemer's count afresh. */
  async forgetRedeemFailures(tx: SqlExecutor, channelType: string, redeemer: string): Promise<void> {
    await tx.execute(`DELETE FROM ${this.t("redeem_failures")} WHERE channel_type = ? AND redeemer = ?`, [
      channelType,
      redeemer,
    ]);
  }

  /** A denied sender may not ask again until `until`. */
  async startCooldown(tx: SqlExecutor, channelType: string, channelId: string, until: number): Promise<void> {
    await tx.execute(
      this.driver.dialect.upsert(
        this.t("deny_cooldowns"),
        ["channel_type", "channel_id", "until"],
        ["channel_type", "channel_id"],
        ["until"],
      ),
      [channelType, channelId, until],
    );
  }

  /** Drops cooldowns and failure windows that can no longer affect anything, so those tables stay small. */
  async forgetInert(tx: SqlExecutor, now: number): Promise<void> {
    await tx.execute(`DELETE FROM ${this.t("deny_cooldowns")} WHERE until <= ?`, [now]);
    await tx.execute(`DELETE FROM ${this.t("redeem_failures")} WHERE locked_until <= ? AND window_start <= ?`, [
      now,
      now - this.rules.redeemFailureWindowMs,
    ]);
  }

  /** Writes one pairing; a renewed pairing keeps its seq (its place among pairings of the same millisecond). */
  async upsertPaired(tx: SqlExecutor, p: Required<PairedChannel>): Promise<void> {
    const { dialect } = this.driver;
    const columns = ["channel_type", "channel_id", "label", "paired_at", "approved_by"];
    const values = columns.map(() => "?");
    if (dialect.seqValue !== null) {
      columns.push("seq");
      values.push(dialect.seqValue);
    }
    await tx.execute(
      dialect.upsert(
        this.t("paired"),
        columns,
        ["channel_type", "channel_id"],
        ["label", "paired_at", "approved_by"],
        values,
      ),
      [p.channelType, p.channelId, p.label, p.pairedAt, p.approvedBy],
    );
  }

  /** Unpairs one sender and withdraws their request; whether either existed. */
  async unpair(tx: SqlExecutor, channelType: string, channelId: string): Promise<boolean> {
    const unpaired = await tx.execute(`DELETE FROM ${this.t("paired")} WHERE channel_type = ? AND channel_id = ?`, [
      channelType,
      channelId,
    ]);
    const withdrawn = await tx.execute(
      `DELETE FROM ${this.t("pending")} WHERE kind = 'request' AND channel_type = ? AND channel_id = ?`,
      [channelType, channelId],
    );
    return unpaired > 0 || withdrawn > 0;
  }

  async pairedAmong(senders: readonly SenderRef[]): Promise<boolean[]> {
    const paired = new Set<string>();
    const key = (channelType: string, channelId: string): string => `${channelType}\u0000${channelId}`;
    for (let start = 0; start < senders.length; start += PAIRED_BATCH) {
      const batch = senders.slice(start, start + PAIRED_BATCH);
      const rows = await this.driver.all<{ channel_type: string; channel_id: string }>(
        `SELECT channel_type, channel_id FROM ${this.t("paired")} WHERE ${batch.map(() => "(channel_type = ? AND channel_id = ?)").join(" OR ")}`,
        batch.flatMap((s) => [s.channelType, s.channelId]),
      );
      for (const row of rows) paired.add(key(String(row.channel_type), String(row.channel_id)));
    }
    return senders.map((s) => paired.has(key(s.channelType, s.channelId)));
  }

  /** Every pairing in the order made. */
  async pairedRows(): Promise<PairedChannel[]> {
    const rows = await this.driver.all<Record<string, unknown>>(
      `SELECT channel_id, channel_type, label, paired_at, approved_by FROM ${this.t("paired")} ORDER BY paired_at, seq`,
    );
    return rows.map((row) => ({
      channelId: String(row.channel_id),
      channelType: String(row.channel_type),
      label: String(row.label),
      pairedAt: Number(row.paired_at),
      approvedBy: String(row.approved_by),
    }));
  }
}
