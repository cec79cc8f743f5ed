import { EventEmitter } from "node:events";
import { approvedEventType } from "../../pairing/owner-scope.js";
import type { PairedChannel, PendingRequest } from "../../protocols/types.js";
import { formatCode } from "../../pairing/codes.js";
import { PairingCooldownError, PairingLimitError } from "../../pairing/errors.js";
import {
  isRefused,
  nextRedeemFailure,
  type FailureWindow,
  auditLimit,
  auditMatches,
  isValidSender,
  pairingLabel,
  pendingView,
  prepareApprove,
  prepareCodeLookup,
  prepareGenerate,
  regenerateCode,
  resolvePairingOptions,
  type NewPendingEntry,
  type ResolvedPairingOptions,
  askValidSenders,
  senderKey,
} from "../shared.js";
import type {
  ApproveOptions,
  Announcement,
  AuditEvent,
  AuditPage,
  AuditQuery,
  GenerateCodeDetails,
  PairingStore,
  RestoreRecords,
  PairingStoreOptions,
  PendingDetails,
  SenderRef,
} from "../types.js";

interface PendingEntry extends Omit<NewPendingEntry, "code"> {
  failures: number;
}

/** The reference pairing store: everything in this process's memory, gone on exit. */
export class MemoryPairingStore implements PairingStore {
  private readonly opts: ResolvedPairingOptions;
  private readonly pending = new Map<string, PendingEntry>();
  private readonly paired = new Map<string, PairedChannel>();
  /** The keys in `paired` of each channel type, for listPaired(channelType). */
  private readonly pairedOfType = new Map<string, Set<string>>();
  private readonly cooldowns = new Map<string, number>();
  private readonly failures = new Map<string, FailureWindow>();
  private readonly log: AuditEvent[] = [];
  private readonly events = new EventEmitter();
  private nextId = 1;
  private closed = false;

  constructor(options: PairingStoreOptions = {}) {
    this.opts = resolvePairingOptions(options);
    this.events.setMaxListeners(0);
  }

  async generateCode(channelType = "unknown", channelId?: string, details?: GenerateCodeDetails): Promise<string> {
    this.assertOpen();
    let entry = prepareGenerate(this.opts, channelType, channelId, details);
    const now = entry.createdAt;
    this.sweep(now);
    if (entry.kind === "request") {
      const until = this.cooldowns.get(senderKey(entry.channelType, entry.channelId)) ?? 0;
      if (until > now) throw new PairingCooldownError(entry.channelType, until - now);
      const existing = this.findRequest(entry.channelType, entry.channelId);
      if (existing) return existing.display;
    }
    const live = [...this.pending.values()].filter((p) => p.channelType === entry.channelType).length;
    if (live >= this.opts.rules.maxPendingPerChannelType) {
      throw new PairingLimitError(entry.channelType, this.opts.rules.maxPendingPerChannelType);
    }
    for (let drawn = 1; this.pending.has(entry.hash); drawn++) entry = regenerateCode(this.opts, entry, drawn);
    const { code, ...stored } = entry;
    this.pending.set(entry.hash, { ...stored, failures: 0 });
    this.append(
      now,
      entry.kind === "request" ? "requested" : "invite-created",
      entry.channelType,
      entry.channelId,
      entry.channelId || "owner",
      {
        kind: entry.kind,
        detail: entry.userName ? { userName: entry.userName } : {},
      },
    );
    return formatCode(code);
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
    this.sweep(now);
    const redeemer = input.userId ? senderKey(input.channelType, input.userId) : null;
    if (redeemer && (this.failures.get(redeemer)?.lockedUntil ?? 0) > now) return false;
    const entry = this.pending.get(input.hash);
    if (!entry || isRefused(entry, input.userId, options)) {
      if (entry && entry.kind === "request" && input.userId) this.countCodeFailure(input.hash, entry, now);
      if (redeemer) this.countRedeemFailure(redeemer, input.channelType, input.userId, now);
      return false;
    }
    const channelId = entry.kind === "request" ? entry.channelId : input.userId;
    this.pending.delete(input.hash);
    // Failure limits count consecutive failures (NIST SP 800-63B): a success starts the redeemer's count afresh.
    if (redeemer) this.failures.delete(redeemer);
    const approvedBy = options.approvedBy ?? (entry.kind === "invite" ? input.userId : "owner");
    this.pair({
      channelId,
      channelType: input.channelType,
      label: pairingLabel(input.userName, entry.userName, channelId),
      pairedAt: now,
      approvedBy,
    });
    this.append(now, approvedEventType(input.channelType), input.channelType, channelId, approvedBy, {
      kind: entry.kind,
      detail: { userName: input.userName || entry.userName, firstMessage: entry.firstMessage },
    });
    return true;
  }

  async isPaired(channelId: string, channelType: string): Promise<boolean> {
    this.assertOpen();
    return isValidSender(channelId, channelType) && this.paired.has(senderKey(channelType, channelId));
  }

  async isPairedMany(senders: readonly SenderRef[]): Promise<boolean[]> {
    this.assertOpen();
    return askValidSenders(senders, (valid) =>
      valid.map((s) => this.paired.has(senderKey(s.channelType, s.channelId))),
    );
  }

  async listPaired(channelType?: string): Promise<PairedChannel[]> {
    this.assertOpen();
    const entries =
      channelType === undefined
        ? [...this.paired.values()]
        : [...(this.pairedOfType.get(channelType) ?? [])].flatMap((key) => this.paired.get(key) ?? []);
    return entries.map((p) => ({ ...p })).sort((a, b) => a.pairedAt - b.pairedAt);
  }

  private pair(p: PairedChannel): void {
    const key = senderKey(p.channelType, p.channelId);
    this.paired.set(key, p);
    const ofType = this.pairedOfType.get(p.channelType) ?? new Set<string>();
    this.pairedOfType.set(p.channelType, ofType.add(key));
  }

  private unpair(channelType: string, channelId: string): boolean {
    const key = senderKey(channelType, channelId);
    const ofType = this.pairedOfType.get(channelType);
    if (ofType?.delete(key) && ofType.size === 0) this.pairedOfType.delete(channelType);
    return this.paired.delete(key);
  }

  async restore(records: RestoreRecords): Promise<void> {
    this.assertOpen();
    for (const p of records.paired) this.pair({ ...p });
    for (const event of records.audit) this.record({ ...event, detail: { restored: true, ...event.detail } });
  }

  async revoke(channelId: string, channelType: string, options: { revokedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return false;
    const now = this.opts.now();
    const wasPaired = this.unpair(channelType, channelId);
    const request = this.findRequest(channelType, channelId);
    if (request) this.pending.delete(request.hash);
    if (!wasPaired && !request) return false;
    this.append(now, "revoked", channelType, channelId, options.revokedBy ?? "owner", { detail: {} });
    return true;
  }

  async listPending(channelType?: string): Promise<PendingRequest[]> {
    this.assertOpen();
    const now = this.opts.now();
    this.sweep(now);
    return [...this.pending.values()]
      .filter((p) => channelType === undefined || p.channelType === channelType)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((p) => pendingView(p, now));
  }

  async deny(channelType: string, code: string, options: { deniedBy?: string } = {}): Promise<boolean> {
    this.assertOpen();
    const hash = prepareCodeLookup(this.opts, channelType, code);
    if (hash === null) return false;
    const now = this.opts.now();
    this.sweep(now);
    const entry = this.pending.get(hash);
    if (!entry) return false;
    this.pending.delete(hash);
    if (entry.kind === "request") {
      this.cooldowns.set(senderKey(entry.channelType, entry.channelId), now + this.opts.rules.denyCooldownMs);
    }
    this.append(now, "denied", entry.channelType, entry.channelId, options.deniedBy ?? "owner", {
      kind: entry.kind,
      detail: {},
    });
    return true;
  }

  async pendingFor(channelId: string, channelType: string): Promise<PendingDetails | null> {
    this.assertOpen();
    if (!isValidSender(channelId, channelType)) return null;
    const now = this.opts.now();
    this.sweep(now);
    const entry = this.findRequest(channelType, channelId);
    if (!entry) return null;
    return { ...pendingView(entry, now), expiresAt: entry.expiresAt, firstMessage: entry.firstMessage };
  }

  async audit(query?: AuditQuery): Promise<AuditPage> {
    this.assertOpen();
    const limit = auditLimit(query);
    const after = query?.after === undefined ? 0 : Number(query.after);
    const matching = this.log.filter((e) => Number(e.id) > after && auditMatches(e, query));
    const events = matching.slice(0, limit).map((e) => structuredClone(e));
    const last = events.at(-1);
    return { events, next: matching.length > limit && last ? last.id : null };
  }

  /** Records that an API token of the same stores was deleted (see MemoryTokenStore), for sockets opened with it. */
  recordTokenRevoked(tokenId: string): void {
    if (!this.closed) this.append(this.opts.now(), "token-revoked", "token", tokenId, "owner", { detail: {} });
  }

  /** Appends an event another memory store decided (an approval request's), so the one audit log holds it. */
  recordApprovalEvent(event: Omit<AuditEvent, "id">): void {
    if (!this.closed) this.record(event);
  }

  /** Appends an announcement (see AnnouncementStore), so subscribers hear it like any decision. */
  recordAnnouncement(event: Announcement): void {
    this.assertOpen();
    this.record({ ...event, at: this.opts.now() });
  }

  subscribe(listener: (event: AuditEvent) => void): () => void {
    const wrapped = (event: AuditEvent): void => listener(structuredClone(event));
    this.events.on("audit", wrapped);
    return () => this.events.off("audit", wrapped);
  }

  async health(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events.removeAllListeners();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("memory pairing store is closed");
  }

  private findRequest(channelType: string, channelId: string): PendingEntry | undefined {
    for (const entry of this.pending.values()) {
      if (entry.kind === "request" && entry.channelType === channelType && entry.channelId === channelId) return entry;
    }
    return undefined;
  }

  private sweep(now: number): void {
    for (const [hash, entry] of this.pending) {
      if (entry.expiresAt > now) continue;
      this.pending.delete(hash);
      this.append(now, "expired", entry.channelType, entry.channelId, "system", { kind: entry.kind, detail: {} });
    }
  }

  private countCodeFailure(hash: string, entry: PendingEntry, now: number): void {
    entry.failures += 1;
    if (entry.failures < this.opts.rules.codeFailureLimit) return;
    this.pending.delete(hash);
    this.append(now, "expired", entry.channelType, entry.channelId, "system", {
      kind: entry.kind,
      detail: { reason: "too many wrong redemptions" },
    });
  }

  private countRedeemFailure(key: string, channelType: string, redeemer: string, now: number): void {
    const { window, events } = nextRedeemFailure(this.failures.get(key), this.opts.rules, now, channelType, redeemer);
    this.failures.set(key, window);
    for (const event of events) this.record(event);
  }

  private record(event: Omit<AuditEvent, "id">): void {
    const { at, type, channelType, channelId, actor, ...extra } = event;
    this.append(at, type, channelType, channelId, actor, extra);
  }

  private append(
    at: number,
    type: AuditEvent["type"],
    channelType: string,
    channelId: string,
    actor: string,
    extra: Pick<AuditEvent, "detail"> & { kind?: AuditEvent["kind"] },
  ): void {
    const event: AuditEvent = { id: String(this.nextId++), at, type, channelType, channelId, actor, ...extra };
    if (event.kind === undefined) delete event.kind;
    this.log.push(event);
    this.events.emit("audit", event);
  }
}
