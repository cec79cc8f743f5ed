import type BetterSqlite3 from "better-sqlite3";
import type { PairedChannel, PendingRequest } from "../../protocols/types.js";
import { formatCode } from "../../pairing/codes.js";
import { PairingCooldownError, PairingLimitError } from "../../pairing/errors.js";
import {
  isRefused,
  isValidSender,
  pairingLabel,
  pendingView,
  prepareApprove,
  prepareCodeLookup,
  prepareGenerate,
  regenerateCode,
  resolvePairingOptions,
  type ApproveInput,
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
  SenderRef,
} from "../types.js";
import { SqliteAuditLog, type NewAuditEvent } from "./audit-log.js";
import { guard, SETTLED_FALSE, SETTLED_TRUE, type SqliteConnection, unavailableIfSqlite } from "./connection.js";
import { expiredEvent, SqliteExpirySweep } from "./expiry-sweep.js";
import { PENDING_COLUMNS, type PendingRow } from "./pending-rows.js";
import { SqliteRedeemFailures } from "./redeem-failures.js";

type Tx<F extends (...args: never[]) => unknown> = BetterSqlite3.Transaction<F>;

/** What a generateCode transaction decided; errors are thrown after it commits, so its sweep is kept. */
type GenerateOutcome = { code: string } | { error: Error };

/**
 * Pairing state in an SQLite file, shared by every process that opens it. Behaves exactly like MemoryPairingStore;
 * every operation that reads and then writes runs in one `BEGIN IMMEDIATE` transaction, so two processes never both
 * consume one code and never lose each other's writes.
 */
export class SqlitePairingStore implements PairingStore {
  private readonly opts: ResolvedPairingOptions;
  private readonly db: BetterSqlite3.Database;
  private readonly log: SqliteAuditLog;
  private readonly expiry: SqliteExpirySweep;
  private readonly failures: SqliteRedeemFailures;
  private closed = false;

  private readonly stmt: Record<
    | "pendingByHash"
    | "requestOf"
    | "countPending"
    | "insertPending"
    | "deletePending"
    | "setPendingFailures"
    | "deleteRequestOf"
    | "listPending"
    | "listPendingOfType"
    | "cooldownOf"
    | "setCooldown"
    | "isPaired"
    | "upsertPaired"
    | "deletePaired"
    | "listPaired",
    BetterSqlite3.Statement
  >;

  private readonly generateTx: Tx<(entry: NewPendingEntry) => GenerateOutcome>;
  private readonly approveTx: Tx<(input: ApproveInput, options: ApproveOptions, now: number) => boolean>;
  private readonly revokeTx: Tx<(channelId: string, channelType: string, revokedBy: string, now: number) => boolean>;
  private readonly denyTx: Tx<(hash: string, deniedBy: string, now: number) => boolean>;
  private readonly listPendingTx: Tx<(channelType: string | undefined, now: number) => PendingRow[]>;
  private readonly pairedManyTx: Tx<(senders: readonly SenderRef[]) => boolean[]>;
  private readonly pendingForTx: Tx<(channelId: string, channelType: string, now: number) => PendingRow | undefined>;

  constructor(
    private readonly connection: SqliteConnection,
    options: PairingStoreOptions = {},
  ) {
    this.opts = resolvePairingOptions(options);
    this.db = connection.acquire().db;
    const db = this.db;
    this.log = new SqliteAuditLog(db);
    this.expiry = new SqliteExpirySweep(db, this.log);
    this.failures = new SqliteRedeemFailures(db, this.log);
    this.stmt = {
      pendingByHash: db.prepare(`SELECT ${PENDING_COLUMNS} FROM pending WHERE hash = ?`),
      requestOf: db.prepare(
        `SELECT ${PENDING_COLUMNS} FROM pending WHERE kind = 'request' AND channel_type = ? AND channel_id = ?`,
      ),
      countPending: db.prepare("SELECT count(*) FROM pending WHERE channel_type = ?").pluck(),
      insertPending: db.prepare(
        `INSERT INTO pending (hash, seq, kind, channel_type, channel_id, user_name, first_message, display, created_at, expires_at)
         VALUES (@hash, @seq, @kind, @channelType, @channelId, @userName, @firstMessage, @display, @createdAt, @expiresAt)`,
      ),
      deletePending: db.prepare("DELETE FROM pending WHERE hash = ?"),
      setPendingFailures: db.prepare("UPDATE pending SET failures = ? WHERE hash = ?"),
      deleteRequestOf: db.prepare("DELETE FROM pending WHERE kind = 'request' AND channel_type = ? AND channel_id = ?"),
      listPending: db.prepare(`SELECT ${PENDING_COLUMNS} FROM pending ORDER BY created_at, seq`),
      listPendingOfType: db.prepare(`SELECT ${PENDING_COLUMNS} FROM pending WHERE channel_type = ? ORDER BY created_at, seq`),
      cooldownOf: db.prepare("SELECT until FROM deny_cooldowns WHERE channel_type = ? AND channel_id = ?").pluck(),
      setCooldown: db.prepare(
        `INSERT INTO deny_cooldowns (channel_type, channel_id, until) VALUES (?, ?, ?)
         ON CONFLICT (channel_type, channel_id) DO UPDATE SET until = excluded.until`,
      ),
      isPaired: db.prepare("SELECT 1 FROM paired WHERE channel_type = ? AND channel_id = ?").pluck(),
      upsertPaired: db.prepare(
        `INSERT INTO paired (channel_type, channel_id, label, paired_at, approved_by, seq) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (channel_type, channel_id)
         DO UPDATE SET label = excluded.label, paired_at = excluded.paired_at, approved_by = excluded.approved_by`,
      ),
      deletePaired: db.prepare("DELETE FROM paired WHERE channel_type = ? AND channel_id = ?"),
      listPaired: db.prepare(
        `SELECT channel_id AS channelId, channel_type AS channelType, label, paired_at AS pairedAt, approved_by AS approvedBy
         FROM paired ORDER BY paired_at, seq`,
      ),
    };
    this.generateTx = db.transaction((entry: NewPendingEntry) => this.generateIn(entry));
    this.approveTx = db.transaction((input: ApproveInput, options: ApproveOptions, now: number) =>
      this.approveIn(input, options, now),
    );
    this.revokeTx = db.transaction((channelId: string, channelType: string, revokedBy: string, now: number) =>
      this.revokeIn(channelId, channelType, revokedBy, now),
    );
    this.denyTx = db.transaction((hash: string, deniedBy: string, now: number) => this.denyIn(hash, deniedBy, now));
    this.listPendingTx = db.transaction((channelType: string | undefined, now: number) => {
      this.expiry.sweep(now);
      const rows = channelType === undefined ? this.stmt.listPending.all() : this.stmt.listPendingOfType.all(channelType);
      return rows as PendingRow[];
    });
    // One read transaction for the lot: SQLite takes and drops its shared-memory read lock once, not per sender.
    this.pairedManyTx = db.transaction((senders: readonly SenderRef[]) => senders.map((s) => this.pairedNow(s.channelId, s.channelType)));
    this.pendingForTx = db.transaction((channelId: string, channelType: string, now: number) => {
      this.expiry.sweep(now);
      return this.stmt.requestOf.get(channelType, channelId) as PendingRow | undefined;
    });
    this.expiry.forgetInert(this.opts.now(), this.opts.rules.redeemFailureWindowMs);
  }

  async generateCode(channelType = "unknown", channelId?: string, details?: GenerateCodeDetails): Promise<string> {
    this.assertOpen();
    const entry = prepareGenerate(this.opts, channelType, channelId, details);
    const outcome = this.write(() => this.generateTx.immediate(entry));
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
    return this.write(() => this.approveTx.immediate(input, options, now));
  }

  isPaired(channelId: string, channelType: string): Promise<boolean> {
    try {
      this.assertOpen();
      return this.pairedNow(channelId, channelType) ? SETTLED_TRUE : SETTLED_FALSE;
    } catch (error) {
      return Promise.reject(unavailableIfSqlite(error));
    }
  }

  isPairedMany(senders: readonly SenderRef[]): Promise<boolean[]> {
    try {
      this.assertOpen();
      return Promise.resolve(senders.length === 1 ? [this.pairedNow(senders[0]!.channelId, senders[0]!.channelType)] : this.pairedManyTx(senders));
    } catch (error) {
      return Promise.reject(unavailableIfSqlite(error));
    }
  }

  private pairedNow(channelId: string, channelType: string): boolean {
    return isValidSender(channelId, channelType) && this.stmt.isPaired.get(channelType, channelId) !== undefined;
  }

  async listPaired(): Promise<PairedChannel[]> {
    this.assertOpen();
    return guard(() => this.stmt.listPaired.all() as PairedChannel[]);
  }

  async revoke(channelId: string, channelType: string, options: { revokedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return false;
    const now = this.opts.now();
    return this.write(() => this.revokeTx.immediate(channelId, channelType, options.revokedBy ?? "owner", now));
  }

  async listPending(channelType?: string): Promise<PendingRequest[]> {
    this.assertOpen();
    const now = this.opts.now();
    const rows = this.write(() => this.readAfterSweep(now, this.listPendingTx, channelType, now));
    return rows.map((row) => pendingView(row, now));
  }

  async deny(channelType: string, code: string, options: { deniedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    const hash = prepareCodeLookup(this.opts, channelType, code);
    if (hash === null) return false;
    const now = this.opts.now();
    return this.write(() => this.denyTx.immediate(hash, options.deniedBy ?? "owner", now));
  }

  async pendingFor(channelId: string, channelType: string): Promise<PendingDetails | null> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return null;
    const now = this.opts.now();
    const row = this.write(() => this.readAfterSweep(now, this.pendingForTx, channelId, channelType, now));
    if (!row) return null;
    return { ...pendingView(row, now), expiresAt: row.expiresAt, firstMessage: row.firstMessage };
  }

  async audit(query?: AuditQuery): Promise<AuditPage> {
    this.assertOpen();
    return guard(() => this.log.page(query));
  }

  subscribe(listener: (event: AuditEvent) => void): () => void {
    // Like the memory store, subscribing to a closed store is allowed and simply never fires.
    if (this.closed) return () => undefined;
    return guard(() => this.log.subscribe(listener));
  }

  async health(): Promise<void> {
    this.connection.health("pairing store", this.closed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
    this.connection.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("sqlite pairing store is closed");
  }

  /** Runs a write transaction, then hands its audit events to this process's subscribers. */
  private write<T>(transaction: () => T): T {
    const result = guard(transaction);
    try {
      this.log.pump();
    } catch {
      // The poller catches up on its next tick.
    }
    return result;
  }

  /**
   * Runs a read that must follow a sweep. Only when something has expired does it take the write lock (one IMMEDIATE
   * transaction: sweep, then read); otherwise a deferred transaction gives the same answer without blocking writers.
   */
  private readAfterSweep<A extends unknown[], R>(now: number, transaction: Tx<(...args: A) => R>, ...args: A): R {
    if (!this.expiry.hasExpired(now)) return transaction.deferred(...args);
    return transaction.immediate(...args);
  }

  // ---- transaction bodies: each runs inside one BEGIN IMMEDIATE ----

  private generateIn(fresh: NewPendingEntry): GenerateOutcome {
    let entry = fresh;
    const now = entry.createdAt;
    this.expiry.sweep(now);
    if (entry.kind === "request") {
      const until = (this.stmt.cooldownOf.get(entry.channelType, entry.channelId) as number | undefined) ?? 0;
      if (until > now) return { error: new PairingCooldownError(entry.channelType, until - now) };
      const existing = this.stmt.requestOf.get(entry.channelType, entry.channelId) as PendingRow | undefined;
      if (existing) return { code: existing.display };
    }
    const live = this.stmt.countPending.get(entry.channelType) as number;
    if (live >= this.opts.rules.maxPendingPerChannelType) {
      return { error: new PairingLimitError(entry.channelType, this.opts.rules.maxPendingPerChannelType) };
    }
    for (let drawn = 1; this.stmt.pendingByHash.get(entry.hash) !== undefined; drawn++) entry = regenerateCode(this.opts, entry, drawn);
    const { code, ...stored } = entry;
    const seq = this.append({
      at: now,
      type: entry.kind === "request" ? "requested" : "invite-created",
      channelType: entry.channelType,
      channelId: entry.channelId,
      actor: entry.channelId || "owner",
      kind: entry.kind,
      detail: entry.userName ? { userName: entry.userName } : {},
    });
    this.stmt.insertPending.run({ ...stored, seq });
    return { code: formatCode(code) };
  }

  private approveIn(input: ApproveInput, options: ApproveOptions, now: number): boolean {
    this.expiry.sweep(now);
    const redeemer = input.userId !== "" ? input.userId : null;
    if (redeemer !== null && this.failures.lockedUntil(input.channelType, redeemer) > now) return false;
    const entry = this.stmt.pendingByHash.get(input.hash) as PendingRow | undefined;
    if (!entry || isRefused(entry, input.userId, options)) {
      if (entry && entry.kind === "request" && input.userId) this.countCodeFailure(entry, now);
      if (redeemer !== null) this.failures.count(this.opts.rules, input.channelType, redeemer, now);
      return false;
    }
    const channelId = entry.kind === "request" ? entry.channelId : input.userId;
    this.stmt.deletePending.run(input.hash);
    if (redeemer !== null) this.failures.reset(input.channelType, redeemer);
    const approvedBy = options.approvedBy ?? (entry.kind === "invite" ? input.userId : "owner");
    const seq = this.append({
      at: now,
      type: "approved",
      channelType: input.channelType,
      channelId,
      actor: approvedBy,
      kind: entry.kind,
      detail: { userName: input.userName || entry.userName, firstMessage: entry.firstMessage },
    });
    const label = pairingLabel(input.userName, entry.userName, channelId);
    this.stmt.upsertPaired.run(input.channelType, channelId, label, now, approvedBy, seq);
    return true;
  }

  private revokeIn(channelId: string, channelType: string, revokedBy: string, now: number): boolean {
    const wasPaired = this.stmt.deletePaired.run(channelType, channelId).changes > 0;
    const hadRequest = this.stmt.deleteRequestOf.run(channelType, channelId).changes > 0;
    if (!wasPaired && !hadRequest) return false;
    this.append({ at: now, type: "revoked", channelType, channelId, actor: revokedBy, detail: {} });
    return true;
  }

  private denyIn(hash: string, deniedBy: string, now: number): boolean {
    this.expiry.sweep(now);
    const entry = this.stmt.pendingByHash.get(hash) as PendingRow | undefined;
    if (!entry) return false;
    this.stmt.deletePending.run(hash);
    if (entry.kind === "request") {
      this.stmt.setCooldown.run(entry.channelType, entry.channelId, now + this.opts.rules.denyCooldownMs);
    }
    this.append({
      at: now,
      type: "denied",
      channelType: entry.channelType,
      channelId: entry.channelId,
      actor: deniedBy,
      kind: entry.kind,
      detail: {},
    });
    return true;
  }

  private countCodeFailure(entry: PendingRow, now: number): void {
    const failures = entry.failures + 1;
    if (failures < this.opts.rules.codeFailureLimit) {
      this.stmt.setPendingFailures.run(failures, entry.hash);
      return;
    }
    this.stmt.deletePending.run(entry.hash);
    this.append(expiredEvent(entry, now, { reason: "too many wrong redemptions" }));
  }

  private append(event: NewAuditEvent): number {
    return this.log.append(event);
  }
}
