import { EventEmitter } from "node:events";
import {
  approvalAuditEvent,
  approvalEventOf,
  approvalView,
  deliverApprovalEvent,
  isDecidable,
  newApprovalRecord,
  APPROVAL_RETENTION_MS,
  type ApprovalDecision,
  type ApprovalEvent,
  type ApprovalRecord,
  type ApprovalStore,
  type ApprovalStoreOptions,
  type DecideResult,
  type NewApproval,
} from "../approvals.js";
import type { AuditEvent } from "../types.js";

/** The reference approval store: this process's memory, gone on exit; decisions are heard in this process only. */
export class MemoryApprovalStore implements ApprovalStore {
  private readonly records = new Map<string, ApprovalRecord>();
  private readonly refs = new Map<string, string>();
  private readonly claims = new Set<string>();
  private readonly events = new EventEmitter();
  private readonly now: () => number;

  constructor(
    options: ApprovalStoreOptions = {},
    /** Where audit events also go (the memory pairing store's log, so `audit()` lists approvals too). */
    private readonly audit: (event: Omit<AuditEvent, "id">) => void = () => {},
  ) {
    this.now = options.now ?? Date.now;
    this.events.setMaxListeners(0);
  }

  async create(input: NewApproval): Promise<{ created: boolean; record: ApprovalRecord }> {
    const now = this.now();
    this.forgetOld(now);
    const existing = this.records.get(input.id);
    if (existing) return { created: false, record: approvalView({ ...existing }, now) };
    let record = newApprovalRecord(input, now);
    while (this.refs.has(record.ref)) record = newApprovalRecord(input, now);
    this.records.set(record.id, record);
    this.refs.set(record.ref, record.id);
    this.emit(approvalAuditEvent(record, "requested", record.requester, now));
    return { created: true, record: { ...record } };
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    const record = this.records.get(id);
    return record ? approvalView({ ...record }, this.now()) : null;
  }

  async getByRef(ref: string): Promise<ApprovalRecord | null> {
    const id = this.refs.get(ref);
    return id === undefined ? null : this.get(id);
  }

  async decide(id: string, decision: ApprovalDecision): Promise<DecideResult> {
    const now = this.now();
    const record = this.records.get(id);
    if (!record) return { won: false, record: null };
    if (!isDecidable(record.status, record.expiresAt, decision.outcome, now)) {
      return { won: false, record: approvalView({ ...record }, now) };
    }
    Object.assign(record, {
      status: decision.outcome,
      approver: decision.approver,
      reason: decision.reason,
      decidedAt: now,
    });
    this.emit(approvalAuditEvent(record, decision.outcome, decision.approver, now));
    return { won: true, record: { ...record } };
  }

  async listPending(): Promise<ApprovalRecord[]> {
    const now = this.now();
    return [...this.records.values()]
      .filter((r) => r.status === "pending" && r.expiresAt > now)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((r) => ({ ...r }));
  }

  async claim(id: string, holder: string): Promise<boolean> {
    const key = `${id}\u0000${holder}`;
    if (this.claims.has(key)) return false;
    this.claims.add(key);
    return true;
  }

  subscribe(listener: (event: ApprovalEvent) => void): () => void {
    const wrapped = (event: ApprovalEvent): void => deliverApprovalEvent(listener, event);
    this.events.on("event", wrapped);
    return () => this.events.off("event", wrapped);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
  }

  private emit(audit: Omit<AuditEvent, "id">): void {
    this.audit(audit);
    const event = approvalEventOf(audit);
    if (event) this.events.emit("event", event);
  }

  private forgetOld(now: number): void {
    for (const [id, record] of this.records) {
      if (record.expiresAt + APPROVAL_RETENTION_MS > now) continue;
      this.records.delete(id);
      this.refs.delete(record.ref);
      for (const key of this.claims) if (key.startsWith(`${id}\u0000`)) this.claims.delete(key);
    }
  }
}
