import type { PairedChannel, PendingRequest } from "../../protocols/types.js";
import { approvedEventType } from "../../pairing/owner-scope.js";
import { formatCode } from "../../pairing/codes.js";
import { PairingCooldownError, PairingLimitError, StoreUnavailableError } from "../../pairing/errors.js";
import type { CallDeadline } from "../deadline.js";
import {
  askValidSenders,
  isRefused,
  isValidSender,
  pairingLabel,
  pendingView,
  prepareApprove,
  prepareCodeLookup,
  prepareGenerate,
  regenerateCode,
  resolvePairingOptions,
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
import { SqlPairingTables } from "./pairing-tables.js";

/** What a generateCode transaction decided; errors are thrown after it commits, so its sweep is kept. */
type GenerateOutcome = { code: string } | { error: Error };

/**
 * Pairing over any SQL driver (src/stores/sql/driver.ts), behaving exactly like MemoryPairingStore: the rules come
 * from shared.ts, and every operation that reads and then writes runs in one transaction holding the store's write
 * lock, so two processes never both consume one code and never lose each other's writes. The statements on the
 * tables are in pairing-tables.ts.
 */
export class SqlPairingStore implements PairingStore {
  private readonly opts: ResolvedPairingOptions;
  /** The audit table; the token store of the same database appends to it too. */
  readonly log: SqlAuditLog;
  private readonly tables: SqlPairingTables;
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
    this.tables = new SqlPairingTables(driver, this.log, this.opts.rules);
  }

  async generateCode(channelType = "unknown", channelId?: string, details?: GenerateCodeDetails): Promise<string> {
    this.assertOpen();
    let entry = prepareGenerate(this.opts, channelType, channelId, details);
    const now = entry.createdAt;
    const outcome = await this.write(async (tx, deadline): Promise<GenerateOutcome> => {
      const found = await this.tables.generateQuestions(tx, entry, now);
      if (found.expired) await this.tables.sweep(tx, now);
      if (entry.kind === "request") {
        if (found.cooldownUntil > now)
          return { error: new PairingCooldownError(entry.channelType, found.cooldownUntil - now) };
        if (found.existing !== null) return { code: found.existing };
      }
      if (found.live >= this.opts.rules.maxPendingPerChannelType) {
        return { error: new PairingLimitError(entry.channelType, this.opts.rules.maxPendingPerChannelType) };
      }
      for (let drawn = 1, taken = found.taken; taken; drawn++) {
        deadline.check();
        entry = regenerateCode(this.opts, entry, drawn);
        taken = (await this.tables.pendingByHash(tx, entry.hash)) !== null;
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
      await this.tables.insertPending(tx, entry, now);
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
    const { tables } = this;
    return this.write(async (tx) => {
      await tables.sweep(tx, now);
      const redeemer = input.userId !== "" ? input.userId : null;
      const window = redeemer === null ? null : await tables.failureWindow(tx, input.channelType, redeemer);
      if ((window?.lockedUntil ?? 0) > now) return false;
      const entry = await tables.pendingByHash(tx, input.hash);
      if (!entry || isRefused(entry, input.userId, options)) {
        if (entry && entry.kind === "request" && redeemer !== null) await tables.countCodeFailure(tx, entry, now);
        if (redeemer !== null) await tables.countRedeemFailure(tx, input, window, now);
        return false;
      }
      const channelId = entry.kind === "request" ? entry.channelId : input.userId;
      await tables.deletePending(tx, input.hash);
      if (redeemer !== null) await tables.forgetRedeemFailures(tx, input.channelType, redeemer);
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
      await tables.upsertPaired(tx, {
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
      lookup ? lookup.many(valid) : this.call(() => this.tables.pairedAmong(valid)),
    );
  }

  async listPaired(channelType?: string): Promise<PairedChannel[]> {
    this.assertOpen();
    return this.call(() => this.tables.pairedRows(channelType));
  }

  async revoke(channelId: string, channelType: string, options: { revokedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return false;
    const now = this.opts.now();
    return this.write(async (tx) => {
      if (!(await this.tables.unpair(tx, channelType, channelId))) return false;
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
    const rows =
      this.tables.pendingRowsNow(now, channelType) ??
      (await this.readAfterSweep(now, (on) => this.tables.pendingRows(on, channelType)));
    return rows.map((row) => pendingView(row, now));
  }

  async deny(channelType: string, code: string, options: { deniedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    const hash = prepareCodeLookup(this.opts, channelType, code);
    if (hash === null) return false;
    const now = this.opts.now();
    return this.write(async (tx) => {
      await this.tables.sweep(tx, now);
      const entry = await this.tables.pendingByHash(tx, hash);
      if (!entry) return false;
      await this.tables.deletePending(tx, hash);
      if (entry.kind === "request") {
        await this.tables.startCooldown(tx, entry.channelType, entry.channelId, now + this.opts.rules.denyCooldownMs);
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
    const quick = this.tables.requestOfNow(now, channelType, channelId);
    const row =
      quick !== undefined
        ? quick
        : await this.readAfterSweep(now, (on) => this.tables.requestOf(on, channelType, channelId));
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
    await this.write((tx) => this.tables.forgetInert(tx, now));
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
        await this.tables.upsertPaired(tx, { ...p, approvedBy: p.approvedBy ?? "owner" });
      }
      for (const event of records.audit) {
        deadline.check();
        await this.log.append(tx, { ...event, detail: { restored: true, ...event.detail } });
      }
    });
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
      const ready = this.log.ready();
      if (ready) await ready;
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
    const expired = await this.call(() => this.tables.anyExpired(this.driver, now));
    if (!expired) return this.call(() => read(this.driver));
    return this.write(async (tx) => {
      await this.tables.sweep(tx, now);
      return read(tx);
    });
  }
}
