import type { PairedChannel, PendingKind, PendingRequest } from "../../protocols/types.js";
import { approvedEventType } from "../../pairing/owner-scope.js";
import { formatCode } from "../../pairing/codes.js";
import { PairingCooldownError, PairingLimitError, StoreUnavailableError } from "../../pairing/errors.js";
import type { CallDeadline } from "../deadline.js";
import {
  askValidSenders,
  isRefused,
  isValidSender,
  nextRedeemFailure,
  pairingLabel,
  pendingView,
  prepareApprove,
  prepareCodeLookup,
  prepareGenerate,
  regenerateCode,
  resolvePairingOptions,
  type ApproveInput,
  type FailureWindow,
  type NewPendingEntry,
  type ResolvedPairingOptions,
} from "../shared.js";
import type {
  ApproveOptions,
  AuditEvent,
  AuditPage,
  AuditQuery,
  GenerateCodeDetails,
  PairingStore,
  PairingStoreOptions,
  PendingDetails,
  RestoreRecords,
  SenderRef,
} from "../types.js";
import { SqlAuditLog } from "./audit.js";
import { sqlCall, type PairedLookup, type SqlDriver, type SqlExecutor } from "./driver.js";

/** A pending row as read back: the inserted entry without its code (never stored), plus order and failure count. */
type PendingRow = Omit<NewPendingEntry, "code"> & { seq: number; failures: number };

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

/** What a generateCode transaction decided; errors are thrown after it commits, so its sweep is kept. */
type GenerateOutcome = { code: string } | { error: Error };

/**
 * Pairing over any SQL driver (src/stores/sql/driver.ts), behaving exactly like MemoryPairingStore: the rules come
 * from shared.ts, and every operation that reads and then writes runs in one transaction holding the store's write
 * lock, so two processes never both consume one code and never lose each other's writes.
 */
export class SqlPairingStore implements PairingStore {
  private readonly opts: ResolvedPairingOptions;
  /** The audit table; the token store of the same database appends to it too. */
  readonly log: SqlAuditLog;
  private readonly t: (name: string) => string;
  private closed = false;

  constructor(
    private readonly driver: SqlDriver,
    options: PairingStoreOptions = {},
    private readonly onClose: () => Promise<void> = async () => undefined,
    /** The backend's own isPaired (the hot path), if it has one. */
    private readonly lookup?: PairedLookup,
  ) {
    this.opts = resolvePairingOptions(options);
    this.log = new SqlAuditLog(driver);
    this.t = (name) => driver.dialect.table(name);
  }

  async generateCode(channelType = "unknown", channelId?: string, details?: GenerateCodeDetails): Promise<string> {
    this.assertOpen();
    let entry = prepareGenerate(this.opts, channelType, channelId, details);
    const now = entry.createdAt;
    const outcome = await this.write(async (tx, deadline): Promise<GenerateOutcome> => {
      // Every question generateCode asks, in one round trip while holding the write lock, judged as after a sweep.
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
      if (Number(found?.expired ?? 0) > 0) await this.sweep(tx, now);
      if (entry.kind === "request") {
        const until = Number(found?.until ?? 0);
        if (until > now) return { error: new PairingCooldownError(entry.channelType, until - now) };
        if (found?.existing !== null && found?.existing !== undefined) return { code: String(found.existing) };
      }
      if (Number(found?.live ?? 0) >= this.opts.rules.maxPendingPerChannelType) {
        return { error: new PairingLimitError(entry.channelType, this.opts.rules.maxPendingPerChannelType) };
      }
      for (let drawn = 1, taken = Number(found?.taken ?? 0) > 0; taken; drawn++) {
        deadline.check();
        entry = regenerateCode(this.opts, entry, drawn);
        taken = (await this.pendingByHash(tx, entry.hash)) !== null;
      }
      await this.log.append(tx, {
        at: now,
        type: entry.kind === "request" ? "requested" : "invite-created",
        channelType: entry.channelType,
        channelId: entry.channelId,
        actor: entry.channelId || "owner",
        kind: entry.kind,
        detail: entry.userName ? { userName: entry.userName } : {},
      });
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
      return { code: formatCode(entry.code) };
    });
    if ("error" in outcome) throw outcome.error;
    return outcome.code;
  }

  async approve(
    channelType: string,
    code: string,
    userId = "",
    userName = "",
    options: ApproveOptions = {},
  ): Promise<boolean> {
    this.assertOpen();
    const input = prepareApprove(this.opts, channelType, code, userId, userName);
    if (!input) return false;
    const now = this.opts.now();
    return this.write(async (tx) => {
      await this.sweep(tx, now);
      const redeemer = input.userId !== "" ? input.userId : null;
      const window = redeemer === null ? null : await this.failureWindow(tx, input.channelType, redeemer);
      if ((window?.lockedUntil ?? 0) > now) return false;
      const entry = await this.pendingByHash(tx, input.hash);
      if (!entry || isRefused(entry, input.userId, options)) {
        if (entry && entry.kind === "request" && redeemer !== null) await this.countCodeFailure(tx, entry, now);
        if (redeemer !== null) await this.countRedeemFailure(tx, input, window, now);
        return false;
      }
      const channelId = entry.kind === "request" ? entry.channelId : input.userId;
      await tx.execute(`DELETE FROM ${this.t("pending")} WHERE hash = ?`, [input.hash]);
      // Failure limits count consecutive failures (NIST SP 800-63B): a success starts the redeemer's count afresh.
      if (redeemer !== null) {
        await tx.execute(`DELETE FROM ${this.t("redeem_failures")} WHERE channel_type = ? AND redeemer = ?`, [
          input.channelType,
          redeemer,
        ]);
      }
      const approvedBy = options.approvedBy ?? (entry.kind === "invite" ? input.userId : "owner");
      await this.log.append(tx, {
        at: now,
        type: approvedEventType(input.channelType),
        channelType: input.channelType,
        channelId,
        actor: approvedBy,
        kind: entry.kind,
        detail: { userName: input.userName || entry.userName, firstMessage: entry.firstMessage },
      });
      await this.upsertPaired(tx, {
        channelType: input.channelType,
        channelId,
        label: pairingLabel(input.userName, entry.userName, channelId),
        pairedAt: now,
        approvedBy,
      });
      return true;
    });
  }

  async isPaired(channelId: string, channelType: string): Promise<boolean> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return false;
    if (this.lookup) return this.lookup.isPaired(channelId, channelType);
    return (await this.isPairedMany([{ channelId, channelType }]))[0] === true;
  }

  async isPairedMany(senders: readonly SenderRef[]): Promise<boolean[]> {
    this.assertOpen();
    const { lookup } = this;
    return askValidSenders(senders, (valid) =>
      lookup ? lookup.many(valid) : this.call(() => this.pairedAmong(valid)),
    );
  }

  async listPaired(): Promise<PairedChannel[]> {
    this.assertOpen();
    const rows = await this.call(() =>
      this.driver.all<Record<string, unknown>>(
        `SELECT channel_id, channel_type, label, paired_at, approved_by FROM ${this.t("paired")} ORDER BY paired_at, seq`,
      ),
    );
    return rows.map((row) => ({
      channelId: String(row.channel_id),
      channelType: String(row.channel_type),
      label: String(row.label),
      pairedAt: Number(row.paired_at),
      approvedBy: String(row.approved_by),
    }));
  }

  async revoke(channelId: string, channelType: string, options: { revokedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return false;
    const now = this.opts.now();
    return this.write(async (tx) => {
      const unpaired = await tx.execute(`DELETE FROM ${this.t("paired")} WHERE channel_type = ? AND channel_id = ?`, [
        channelType,
        channelId,
      ]);
      const withdrawn = await tx.execute(
        `DELETE FROM ${this.t("pending")} WHERE kind = 'request' AND channel_type = ? AND channel_id = ?`,
        [channelType, channelId],
      );
      if (unpaired === 0 && withdrawn === 0) return false;
      await this.log.append(tx, {
        at: now,
        type: "revoked",
        channelType,
        channelId,
        actor: options.revokedBy ?? "owner",
        detail: {},
      });
      return true;
    });
  }

  async listPending(channelType?: string): Promise<PendingRequest[]> {
    this.assertOpen();
    const now = this.opts.now();
    const rows = await this.readAfterSweep(now, async (tx) => {
      // No entry's channel type holds U+0000 (nor can PostgreSQL's text): such a filter matches nothing.
      if (channelType?.includes("\u0000")) return [];
      const where = channelType === undefined ? "" : "WHERE channel_type = ?";
      const found = await tx.all<Record<string, unknown>>(
        `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")} ${where} ORDER BY created_at, seq`,
        channelType === undefined ? [] : [channelType],
      );
      return found.map(toPending);
    });
    return rows.map((row) => pendingView(row, now));
  }

  async deny(channelType: string, code: string, options: { deniedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    const hash = prepareCodeLookup(this.opts, channelType, code);
    if (hash === null) return false;
    const now = this.opts.now();
    return this.write(async (tx) => {
      await this.sweep(tx, now);
      const entry = await this.pendingByHash(tx, hash);
      if (!entry) return false;
      await tx.execute(`DELETE FROM ${this.t("pending")} WHERE hash = ?`, [hash]);
      if (entry.kind === "request") {
        await tx.execute(
          this.driver.dialect.upsert(
            this.t("deny_cooldowns"),
            ["channel_type", "channel_id", "until"],
            ["channel_type", "channel_id"],
            ["until"],
          ),
          [entry.channelType, entry.channelId, now + this.opts.rules.denyCooldownMs],
        );
      }
      const { channelId, kind } = entry;
      await this.log.append(tx, {
        at: now,
        type: "denied",
        channelType: entry.channelType,
        channelId,
        actor: options.deniedBy ?? "owner",
        kind,
        detail: {},
      });
      return true;
    });
  }

  async pendingFor(channelId: string, channelType: string): Promise<PendingDetails | null> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return null;
    const now = this.opts.now();
    const row = await this.readAfterSweep(now, (tx) => this.requestOf(tx, channelType, channelId));
    if (!row) return null;
    return { ...pendingView(row, now), expiresAt: row.expiresAt, firstMessage: row.firstMessage };
  }

  async audit(query?: AuditQuery): Promise<AuditPage> {
    this.assertOpen();
    return this.call(() => this.log.page(query));
  }

  subscribe(listener: (event: AuditEvent) => void): () => void {
    // Like the memory store, subscribing to a closed store is allowed and simply never fires.
    if (this.closed) return () => undefined;
    return this.log.subscribe(listener);
  }

  async health(): Promise<void> {
    if (this.closed)
      throw new StoreUnavailableError(this.driver.backend, {
        cause: new Error(`${this.driver.backend} pairing store is closed`),
      });
    await this.call(() => this.driver.get("SELECT 1 AS ok"));
  }

  /** At open: drops cooldowns and failure windows that can no longer affect anything, so those tables stay small. */
  async forgetInert(): Promise<void> {
    const now = this.opts.now();
    await this.write(async (tx) => {
      await tx.execute(`DELETE FROM ${this.t("deny_cooldowns")} WHERE until <= ?`, [now]);
      await tx.execute(`DELETE FROM ${this.t("redeem_failures")} WHERE locked_until <= ? AND window_start <= ?`, [
        now,
        now - this.opts.rules.redeemFailureWindowMs,
      ]);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
    await this.onClose();
  }

  async restore(records: RestoreRecords): Promise<void> {
    this.assertOpen();
    await this.write(async (tx, deadline) => {
      for (const p of records.paired) {
        deadline.check();
        await this.upsertPaired(tx, { ...p, approvedBy: p.approvedBy ?? "owner" });
      }
      for (const event of records.audit) {
        deadline.check();
        await this.log.append(tx, { ...event, detail: { restored: true, ...event.detail } });
      }
    });
  }

  /** Writes one pairing; a renewed pairing keeps its seq (its place among pairings of the same millisecond). */
  private async upsertPaired(tx: SqlExecutor, p: Required<PairedChannel>): Promise<void> {
    const { dialect } = this.driver;
    const columns = ["channel_type", "channel_id", "label", "paired_at", "approved_by"];
    const values = columns.map(() => "?");
    if (dialect.seqValue !== null) columns.push("seq"), values.push(dialect.seqValue);
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

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this.driver.backend} pairing store is closed`);
  }

  private call<T>(work: (deadline: CallDeadline) => Promise<T>): Promise<T> {
    return sqlCall(this.driver, work);
  }

  /** A change in one write transaction; its audit events then reach this process's subscribers. */
  private async write<T>(work: (tx: SqlExecutor, deadline: CallDeadline) => Promise<T>): Promise<T> {
    const result = await this.call(async (deadline) => {
      await this.log.ready();
      return this.driver.write((tx) => work(tx, deadline), deadline);
    });
    void this.log.pump();
    return result;
  }

  /**
   * A read that must follow a sweep. Only when something has expired does it take the write lock (sweep, then read);
   * otherwise it reads without blocking or waiting for writers: what it reads cannot have expired at `now`.
   */
  private async readAfterSweep<T>(now: number, read: (on: SqlExecutor) => Promise<T>): Promise<T> {
    const expired = await this.call(() =>
      this.driver.get(`SELECT 1 AS x FROM ${this.t("pending")} WHERE expires_at <= ? LIMIT 1`, [now]),
    );
    if (expired === null) return this.call(() => read(this.driver));
    return this.write(async (tx) => {
      await this.sweep(tx, now);
      return read(tx);
    });
  }

  private async pairedAmong(senders: readonly SenderRef[]): Promise<boolean[]> {
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

  private async pendingByHash(tx: SqlExecutor, hash: string): Promise<PendingRow | null> {
    const row = await tx.get<Record<string, unknown>>(
      `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")} WHERE hash = ?`,
      [hash],
    );
    return row ? toPending(row) : null;
  }

  private async requestOf(tx: SqlExecutor, channelType: string, channelId: string): Promise<PendingRow | null> {
    const row = await tx.get<Record<string, unknown>>(
      `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")} WHERE kind = 'request' AND channel_type = ? AND channel_id = ?`,
      [channelType, channelId],
    );
    return row ? toPending(row) : null;
  }

  /** Removes every expired pending entry, recording each as `expired`, oldest first. */
  private async sweep(tx: SqlExecutor, now: number): Promise<void> {
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
  private async countCodeFailure(tx: SqlExecutor, entry: PendingRow, now: number): Promise<void> {
    if (entry.failures + 1 < this.opts.rules.codeFailureLimit) {
      await tx.execute(`UPDATE ${this.t("pending")} SET failures = ? WHERE hash = ?`, [entry.failures + 1, entry.hash]);
      return;
    }
    await tx.execute(`DELETE FROM ${this.t("pending")} WHERE hash = ?`, [entry.hash]);
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

  private async failureWindow(tx: SqlExecutor, channelType: string, redeemer: string): Promise<FailureWindow | null> {
    const row = await tx.get<Record<string, unknown>>(
      `SELECT window_start, count, locked_until FROM ${this.t("redeem_failures")} WHERE channel_type = ? AND redeemer = ?`,
      [channelType, redeemer],
    );
    return row
      ? { windowStart: Number(row.window_start), count: Number(row.count), lockedUntil: Number(row.locked_until) }
      : null;
  }

  /** A failed redemption by one redeemer on one channel type; past the limit inside the window they are locked out. */
  private async countRedeemFailure(
    tx: SqlExecutor,
    input: ApproveInput,
    previous: FailureWindow | null,
    now: number,
  ): Promise<void> {
    const { window, events } = nextRedeemFailure(
      previous ?? undefined,
      this.opts.rules,
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
}
