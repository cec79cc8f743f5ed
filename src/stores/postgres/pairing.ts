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
  type ResolvedPairingOptions,
  askValidSenders,
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
import { storable, type PostgresDatabase, type Queryable } from "./database.js";
import { AuditFeed } from "./audit-feed.js";
import { readAuditPage } from "./audit-page.js";
import { sweepExpired } from "./expiry-sweep.js";
import { PairedLookup } from "./paired-lookup.js";
import { PENDING_COLUMNS, toEntry, type PendingEntry, type PendingRow } from "./pending-rows.js";
import { countRedeemFailure, lockedUntil, resetRedeemFailures } from "./redeem-failures.js";
import type { CallDeadline } from "../deadline.js";

/**
 * Pairing in PostgreSQL, behaving exactly like the memory reference store, across processes:
 * - generateCode, deny and revoke hold an advisory transaction lock per channel type (caps and one request per sender
 *   stay exact);
 * - approve locks the entry's row (FOR UPDATE) and consumes it by `DELETE ... RETURNING`, so one of many concurrent
 *   approvals wins without queueing behind unrelated work; a redeemer's attempts hold a lock per (channel type,
 *   redeemer) so failure windows and lockouts count exactly.
 * Timestamps come from the injected clock, never SQL now().
 */
export class PostgresPairingStore implements PairingStore {
  private readonly opts: ResolvedPairingOptions;
  private readonly feed: AuditFeed;
  private readonly pairedLookup: PairedLookup;
  private closed = false;

  constructor(
    private readonly db: PostgresDatabase,
    options: PairingStoreOptions = {},
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {
    this.opts = resolvePairingOptions(options);
    this.feed = new AuditFeed(db);
    this.pairedLookup = new PairedLookup(db);
  }

  async generateCode(channelType = "unknown", channelId?: string, details?: GenerateCodeDetails): Promise<string> {
    this.assertOpen();
    let entry = prepareGenerate(this.opts, channelType, channelId, details);
    const now = entry.createdAt;
    return this.write(channelLock(entry.channelType), now, async (tx, deadline) => {
      if (entry.kind === "request") {
        const cooldown = await tx.query<{ until: string }>(
          `SELECT until FROM ${this.t("deny_cooldowns")} WHERE channel_type = $1 AND channel_id = $2`,
          [entry.channelType, entry.channelId],
        );
        const until = Number(cooldown.rows[0]?.until ?? 0);
        if (until > now) throw new PairingCooldownError(entry.channelType, until - now);
        const existing = await this.findRequest(tx, entry.channelType, entry.channelId, now);
        if (existing) return existing.display;
      }
      const live = await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${this.t("pending")} WHERE channel_type = $1 AND expires_at > $2`,
        [entry.channelType, now],
      );
      if ((live.rows[0]?.n ?? 0) >= this.opts.rules.maxPendingPerChannelType) {
        throw new PairingLimitError(entry.channelType, this.opts.rules.maxPendingPerChannelType);
      }
      for (let drawn = 1; ; drawn++) {
        deadline.check();
        const inserted = await tx.query(
          `INSERT INTO ${this.t("pending")} (hash, kind, channel_type, channel_id, user_name, first_message, display, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (hash) DO NOTHING`,
          [
            entry.hash,
            entry.kind,
            entry.channelType,
            entry.channelId,
            entry.userName,
            Buffer.from(entry.firstMessage, "utf8"),
            entry.display,
            entry.createdAt,
            entry.expiresAt,
          ],
        );
        if (inserted.rowCount === 1) break;
        entry = regenerateCode(this.opts, entry, drawn);
      }
      await this.db.appendAudit(tx, {
        at: now,
        type: entry.kind === "request" ? "requested" : "invite-created",
        channelType: entry.channelType,
        channelId: entry.channelId,
        actor: entry.channelId || "owner",
        kind: entry.kind,
        detail: entry.userName ? { userName: entry.userName } : {},
      });
      return formatCode(entry.code);
    });
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
    // The entry's row lock (FOR UPDATE) decides races for one code: of many concurrent approvals one consumes it and
    // the others then find nothing. A redeemer's attempts are serialised so their failure count and lockout are exact.
    const lock = input.userId ? `redeem:${input.channelType}:${input.userId}` : null;
    return this.write(lock, now, async (tx) => {
      if (input.userId && (await lockedUntil(this.db, tx, input)) > now) return false;
      const found = await tx.query<PendingRow>(
        `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")} WHERE hash = $1 AND expires_at > $2 FOR UPDATE`,
        [input.hash, now],
      );
      const entry = found.rows[0] ? toEntry(found.rows[0]) : null;
      if (!entry || isRefused(entry, input.userId, options)) {
        if (entry && entry.kind === "request" && input.userId) await this.countCodeFailure(tx, entry, now);
        if (input.userId) await countRedeemFailure(this.db, tx, this.opts.rules, input, now);
        return false;
      }
      // Single use: only the caller whose DELETE returns the row may pair.
      const consumed = await tx.query(`DELETE FROM ${this.t("pending")} WHERE hash = $1 AND expires_at > $2 RETURNING hash`, [
        input.hash,
        now,
      ]);
      if (consumed.rowCount !== 1) return false;
      // Failure limits count consecutive failures (NIST SP 800-63B): a success starts the redeemer's count afresh.
      if (input.userId) await resetRedeemFailures(this.db, tx, input);
      const channelId = entry.kind === "request" ? entry.channelId : input.userId;
      const approvedBy = options.approvedBy ?? (entry.kind === "invite" ? input.userId : "owner");
      await tx.query(
        `INSERT INTO ${this.t("paired")} (channel_type, channel_id, label, paired_at, approved_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (channel_type, channel_id)
         DO UPDATE SET label = EXCLUDED.label, paired_at = EXCLUDED.paired_at, approved_by = EXCLUDED.approved_by`,
        [input.channelType, channelId, pairingLabel(input.userName, entry.userName, channelId), now, approvedBy],
      );
      await this.db.appendAudit(tx, {
        at: now,
        type: "approved",
        channelType: input.channelType,
        channelId,
        actor: approvedBy,
        kind: entry.kind,
        detail: { userName: input.userName || entry.userName, firstMessage: entry.firstMessage },
      });
      return true;
    });
  }

  async isPaired(channelId: string, channelType: string): Promise<boolean> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return false;
    return this.db.call(() => this.pairedLookup.isPaired(channelType, channelId));
  }

  async isPairedMany(senders: readonly SenderRef[]): Promise<boolean[]> {
    this.assertOpen();
    return askValidSenders(senders, (valid) => this.db.call(() => this.pairedLookup.many(valid)));
  }

  async listPaired(): Promise<PairedChannel[]> {
    this.assertOpen();
    return this.db.call(async () => {
      const rows = await this.db.query<{ channel_id: string; channel_type: string; label: string; paired_at: string; approved_by: string }>(
        `SELECT channel_id, channel_type, label, paired_at, approved_by FROM ${this.t("paired")} ORDER BY paired_at, seq`,
      );
      return rows.rows.map((row) => ({
        channelId: row.channel_id,
        channelType: row.channel_type,
        label: row.label,
        pairedAt: Number(row.paired_at),
        approvedBy: row.approved_by,
      }));
    });
  }

  async revoke(channelId: string, channelType: string, options: { revokedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return false;
    const now = this.opts.now();
    return this.write(channelLock(channelType), null, async (tx) => {
      // The request first: an approval holding it is waited for, and its pairing is then seen and removed, so a
      // revoke racing an approve of the same sender ends revoked.
      const withdrawn = await tx.query(
        `DELETE FROM ${this.t("pending")} WHERE kind = 'request' AND channel_type = $1 AND channel_id = $2`,
        [channelType, channelId],
      );
      const unpaired = await tx.query(`DELETE FROM ${this.t("paired")} WHERE channel_type = $1 AND channel_id = $2`, [
        channelType,
        channelId,
      ]);
      if (unpaired.rowCount === 0 && withdrawn.rowCount === 0) return false;
      await this.db.appendAudit(tx, {
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
    return this.db.call(() =>
      this.db.withClient(async (client) => {
        await sweepExpired(this.db, client, now);
        if (!storable(channelType)) return [];
        const rows = await client.query<PendingRow>(
          `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")}
           WHERE expires_at > $1 AND ($2::text IS NULL OR channel_type = $2) ORDER BY created_at, seq`,
          [now, channelType ?? null],
        );
        return rows.rows.map((row) => pendingView(toEntry(row), now));
      }),
    );
  }

  async deny(channelType: string, code: string, options: { deniedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    const hash = prepareCodeLookup(this.opts, channelType, code);
    if (hash === null) return false;
    const now = this.opts.now();
    return this.write(channelLock(channelType), now, async (tx) => {
      const gone = await tx.query<PendingRow>(
        `DELETE FROM ${this.t("pending")} WHERE hash = $1 AND expires_at > $2 RETURNING ${PENDING_COLUMNS}`,
        [hash, now],
      );
      const entry = gone.rows[0] ? toEntry(gone.rows[0]) : null;
      if (!entry) return false;
      if (entry.kind === "request") {
        await tx.query(
          `INSERT INTO ${this.t("deny_cooldowns")} (channel_type, channel_id, until) VALUES ($1, $2, $3)
           ON CONFLICT (channel_type, channel_id) DO UPDATE SET until = EXCLUDED.until`,
          [entry.channelType, entry.channelId, now + this.opts.rules.denyCooldownMs],
        );
      }
      await this.db.appendAudit(tx, {
        at: now,
        type: "denied",
        channelType: entry.channelType,
        channelId: entry.channelId,
        actor: options.deniedBy ?? "owner",
        kind: entry.kind,
        detail: {},
      });
      return true;
    });
  }

  async pendingFor(channelId: string, channelType: string): Promise<PendingDetails | null> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return null;
    const now = this.opts.now();
    return this.db.call(() =>
      this.db.withClient(async (client) => {
        await sweepExpired(this.db, client, now);
        const entry = await this.findRequest(client, channelType, channelId, now);
        if (!entry) return null;
        return { ...pendingView(entry, now), expiresAt: entry.expiresAt, firstMessage: entry.firstMessage };
      }),
    );
  }

  async audit(query?: AuditQuery): Promise<AuditPage> {
    this.assertOpen();
    return readAuditPage(this.db, query);
  }

  subscribe(listener: (event: AuditEvent) => void): () => void {
    return this.feed.subscribe(listener);
  }

  async health(): Promise<void> {
    this.assertOpen();
    await this.db.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed.close();
    await this.onClose();
  }

  private t(name: string): string {
    return this.db.table(name);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("postgres pairing store is closed");
  }

  /**
   * A change: expired entries are swept first (as the reference store does), then `work` runs in a transaction holding
   * the advisory lock `lock` (if any). Waits for a starting subscription so its events are seen.
   */
  private write<T>(
    lock: string | null,
    sweepAt: number | null,
    work: (tx: Queryable, deadline: CallDeadline) => Promise<T>,
  ): Promise<T> {
    return this.db.call(async (deadline) => {
      await this.feed.ready();
      return this.db.withClient(async (client) => {
        if (sweepAt !== null) await sweepExpired(this.db, client, sweepAt);
        return this.db.transaction(client, lock, (tx) => work(tx, deadline), deadline);
      });
    });
  }

  private async findRequest(tx: Queryable, channelType: string, channelId: string, now: number): Promise<PendingEntry | null> {
    const rows = await tx.query<PendingRow>(
      `SELECT ${PENDING_COLUMNS} FROM ${this.t("pending")}
       WHERE kind = 'request' AND channel_type = $1 AND channel_id = $2 AND expires_at > $3 ORDER BY seq LIMIT 1`,
      [channelType, channelId, now],
    );
    return rows.rows[0] ? toEntry(rows.rows[0]) : null;
  }

  /** A wrong redemption of a request's code; past the limit the code is invalidated. */
  private async countCodeFailure(tx: Queryable, entry: PendingEntry, now: number): Promise<void> {
    const counted = await tx.query<{ failures: number }>(
      `UPDATE ${this.t("pending")} SET failures = failures + 1 WHERE hash = $1 RETURNING failures`,
      [entry.hash],
    );
    if ((counted.rows[0]?.failures ?? 0) < this.opts.rules.codeFailureLimit) return;
    await tx.query(`DELETE FROM ${this.t("pending")} WHERE hash = $1`, [entry.hash]);
    await this.db.appendAudit(tx, {
      at: now,
      type: "expired",
      channelType: entry.channelType,
      channelId: entry.channelId,
      actor: "system",
      kind: entry.kind,
      detail: { reason: "too many wrong redemptions" },
    });
  }
}

/** Changes that must see one channel type's pending entries as a whole (cap, one request per sender) take this lock. */
const channelLock = (channelType: string): string => `pairing:${channelType}`;
