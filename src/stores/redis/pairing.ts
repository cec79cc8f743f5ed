import type { PairedChannel, PendingKind, PendingRequest } from "../../protocols/types.js";
import { approvedEventType } from "../../pairing/owner-scope.js";
import { formatCode } from "../../pairing/codes.js";
import { PairingCooldownError, PairingLimitError, StoreUnavailableError } from "../../pairing/errors.js";
import { isValidChannelType } from "../../pairing/validation.js";
import {
  isValidSender,
  pendingView,
  prepareApprove,
  prepareCodeLookup,
  prepareGenerate,
  regenerateCode,
  resolvePairingOptions,
  type NewPendingEntry,
  type ResolvedPairingOptions,
  askValidSenders,
} from "../shared.js";
import type {
  ApproveOptions,
  AuditEvent,
  AuditResync,
  AuditPage,
  AuditQuery,
  GenerateCodeDetails,
  PairingStore,
  PairingStoreOptions,
  PendingDetails,
  RestoreRecords,
  SenderRef,
} from "../types.js";
import { RESTORE } from "./restore-script.js";
import { AuditFeed, readAuditPage } from "./audit-stream.js";
import type { RedisConnection } from "./connection.js";
import { RedisKeys, senderField } from "./keys.js";
import { LIST_PAIRED_OF_TYPE } from "./paired-index.js";
import { PairedLookups } from "./paired-lookups.js";
import { APPROVE, DENY, GENERATE, LIST_PENDING, PENDING_FIELDS, PENDING_FOR, REVOKE } from "./scripts.js";

/** How long a native TTL outlives the logical expiry, so the store's own clock decides (and records) expiry. */
export const NATIVE_TTL_GRACE_MS = 60_000;

/** A pending entry as a script returns it: the stored fields plus the insertion counter that orders ties. */
type StoredPending = Omit<NewPendingEntry, "code" | "hash"> & { seq: number };

function toStoredPending(row: unknown): StoredPending | null {
  if (!Array.isArray(row) || row[0] === null || row[0] === undefined) return null;
  const value = Object.fromEntries(PENDING_FIELDS.map((field, i) => [field, String(row[i] ?? "")]));
  return {
    kind: value.kind as PendingKind,
    channelType: value.channelType ?? "",
    channelId: value.channelId ?? "",
    userName: value.userName ?? "",
    firstMessage: value.firstMessage ?? "",
    createdAt: Number(value.createdAt),
    expiresAt: Number(value.expiresAt),
    display: value.display ?? "",
    seq: Number(value.seq),
  };
}

interface StoredPairing extends PairedChannel {
  seq: number;
  pairedAt: number;
}

function toPairing(text: string): StoredPairing {
  const raw = JSON.parse(text) as Record<string, unknown>;
  return {
    channelId: String(raw.channelId),
    channelType: String(raw.channelType),
    label: String(raw.label),
    pairedAt: Number(raw.pairedAt),
    approvedBy: String(raw.approvedBy),
    seq: Number(raw.seq),
  };
}

const bySeq = (a: { seq: number }, b: { seq: number }): number => a.seq - b.seq;

/**
 * Pairing in Redis, shared by every process and gateway instance using the same server and key prefix. Behaves
 * exactly like the memory reference store; every change is one Lua script (atomic), `isPaired` is one command on one
 * hash (HEXISTS, or one HMGET shared by the lookups of one event-loop turn), and the audit log is a stream that doubles
 * as the cross-instance event feed.
 */
export class RedisPairingStore implements PairingStore {
  private readonly opts: ResolvedPairingOptions;
  private readonly keys: RedisKeys;
  private readonly feed: AuditFeed;
  private readonly pairedLookups: PairedLookups;
  private closed = false;

  constructor(
    private readonly conn: RedisConnection,
    prefix: string,
    options: PairingStoreOptions = {},
  ) {
    this.opts = resolvePairingOptions(options);
    this.keys = new RedisKeys(prefix);
    this.feed = new AuditFeed(conn, this.keys.audit);
    this.pairedLookups = new PairedLookups(conn, this.keys.paired);
    conn.acquire();
  }

  async generateCode(channelType = "unknown", channelId?: string, details?: GenerateCodeDetails): Promise<string> {
    this.assertOpen();
    let entry = prepareGenerate(this.opts, channelType, channelId, details);
    const detail = JSON.stringify(entry.userName ? { userName: entry.userName } : {});
    return this.conn.run(async (deadline) => {
      for (let drawn = 1; ; drawn++) {
        // A retry is never sent once the caller has been told the call failed: it would create an unseen request.
        deadline.check();
        const reply = (await this.script(GENERATE, entry.createdAt, [
          entry.kind,
          entry.channelType,
          entry.channelId,
          entry.hash,
          entry.userName,
          entry.firstMessage,
          String(entry.expiresAt),
          entry.display,
          String(this.opts.rules.maxPendingPerChannelType),
          detail,
        ])) as [string, string?];
        switch (reply[0]) {
          case "created":
            return formatCode(entry.code);
          case "existing":
            return String(reply[1]);
          case "cooldown":
            throw new PairingCooldownError(entry.channelType, Number(reply[1]));
          case "limit":
            throw new PairingLimitError(entry.channelType, this.opts.rules.maxPendingPerChannelType);
          case "collision":
            entry = regenerateCode(this.opts, entry, drawn);
            break;
          default:
            throw new StoreUnavailableError("redis", {
              cause: new Error(`unexpected generate reply ${String(reply[0])}`),
            });
        }
      }
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
    const { codeFailureLimit, redeemFailureLimit, redeemFailureWindowMs, lockoutMs } = this.opts.rules;
    const approvedBy = options.approvedBy ?? null;
    const reply = await this.conn.run(() =>
      this.decision(APPROVE, this.opts.now(), [
        input.channelType,
        input.hash,
        input.userId,
        input.userName,
        approvedBy === null ? "" : String(approvedBy),
        approvedBy === null ? "0" : "1",
        options.inviteOnly ? "1" : "0",
        String(codeFailureLimit),
        String(redeemFailureLimit),
        String(redeemFailureWindowMs),
        String(lockoutMs),
        approvedEventType(input.channelType),
      ]),
    );
    return Number(reply) === 1;
  }

  async isPaired(channelId: string, channelType: string): Promise<boolean> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return false;
    return this.pairedLookups.has(senderField(channelType, channelId));
  }

  async isPairedMany(senders: readonly SenderRef[]): Promise<boolean[]> {
    this.assertOpen();
    return askValidSenders(senders, (valid) =>
      this.pairedLookups.many(valid.map((s) => senderField(s.channelType, s.channelId))),
    );
  }

  async listPaired(channelType?: string): Promise<PairedChannel[]> {
    this.assertOpen();
    if (channelType !== undefined && !isValidChannelType(channelType)) return [];
    const reply = await this.conn.run(() =>
      channelType === undefined
        ? this.conn.command(["HVALS", this.keys.paired])
        : this.conn.eval(LIST_PAIRED_OF_TYPE, [], [this.keys.prefix, channelType]),
    );
    const rows = Array.isArray(reply) ? reply.map((text) => toPairing(String(text))) : [];
    return rows.sort((a, b) => a.pairedAt - b.pairedAt || bySeq(a, b)).map(({ seq: _seq, ...pairing }) => pairing);
  }

  async revoke(channelId: string, channelType: string, options: { revokedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return false;
    const revokedBy = options.revokedBy ?? "owner";
    const reply = await this.conn.run(() =>
      this.decision(REVOKE, this.opts.now(), [channelType, channelId, String(revokedBy)]),
    );
    return Number(reply) === 1;
  }

  async listPending(channelType?: string): Promise<PendingRequest[]> {
    this.assertOpen();
    if (channelType !== undefined && !isValidChannelType(channelType)) return [];
    const now = this.opts.now();
    const reply = await this.conn.run(() => this.script(LIST_PENDING, now, [channelType ?? ""]));
    const rows = Array.isArray(reply) ? reply.map(toStoredPending).filter((row) => row !== null) : [];
    return rows.sort((a, b) => a.createdAt - b.createdAt || bySeq(a, b)).map((row) => pendingView(row, now));
  }

  async deny(channelType: string, code: string, options: { deniedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    const hash = prepareCodeLookup(this.opts, channelType, code);
    if (hash === null) return false;
    const deniedBy = options.deniedBy ?? "owner";
    const reply = await this.conn.run(() =>
      this.decision(DENY, this.opts.now(), [hash, String(this.opts.rules.denyCooldownMs), String(deniedBy)]),
    );
    return Number(reply) === 1;
  }

  async pendingFor(channelId: string, channelType: string): Promise<PendingDetails | null> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return null;
    const now = this.opts.now();
    const row = toStoredPending(await this.conn.run(() => this.script(PENDING_FOR, now, [channelType, channelId])));
    if (!row) return null;
    return { ...pendingView(row, now), expiresAt: row.expiresAt, firstMessage: row.firstMessage };
  }

  async audit(query?: AuditQuery): Promise<AuditPage> {
    this.assertOpen();
    return this.conn.run(() => readAuditPage(this.conn, this.keys.audit, query));
  }

  subscribe(listener: (event: AuditEvent) => void, onResync?: (resync: AuditResync) => void): () => void {
    return this.feed.subscribe(listener, onResync);
  }

  async health(): Promise<void> {
    this.assertOpen();
    await this.conn.ping();
  }

  async restore(records: RestoreRecords): Promise<void> {
    this.assertOpen();
    const paired = records.paired.map((p) => ({ ...p, approvedBy: p.approvedBy ?? "owner" }));
    const audit = records.audit.map((e) => ({ ...e, detail: JSON.stringify({ restored: true, ...e.detail }) }));
    await this.conn.run(() =>
      this.conn.eval(RESTORE, [], [this.keys.prefix, JSON.stringify(paired), JSON.stringify(audit)]),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed.close();
    await this.conn.release();
  }

  /** A pairing decision (approve, revoke, deny): once it changed something, it is on the replicas before it is done. */
  private async decision(script: typeof GENERATE, now: number, args: string[]): Promise<unknown> {
    const reply = await this.script(script, now, args);
    if (Number(reply) === 1) await this.conn.replicated();
    return reply;
  }

  private script(script: typeof GENERATE, now: number, args: string[]): Promise<unknown> {
    return this.conn.eval(script, [], [this.keys.prefix, String(now), String(NATIVE_TTL_GRACE_MS), ...args]);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("redis pairing store is closed");
  }
}
