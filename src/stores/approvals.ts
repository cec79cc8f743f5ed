import { generateRawCode } from "../pairing/codes.js";
import type { JsonValue } from "../protocols/types.js";
import type { AuditEvent, Clock } from "./events.js";

/**
 * Approval requests: an agent asks the owner before it runs a risky action. The storage contract every backend
 * implements (`src/stores/<backend>/approvals.ts`) and the pure rules they share, so each backend only stores.
 *
 * A request is decided at most once: of racing decisions (buttons on two channels, the console, the CLI, another
 * instance) exactly one `decide` wins; the others learn who won. A pending request past its expiry reads as expired
 * (denied with a reason) even before anyone records the expiry.
 */
export type ApprovalStatus = "pending" | "approved" | "denied" | "expired";
export type ApprovalOutcome = Exclude<ApprovalStatus, "pending">;

export interface ApprovalRecord {
  /** The client's request id (PraisonAI's `request_id`). */
  id: string;
  /** A short random reference (8 code symbols) that button tokens carry instead of the id. */
  ref: string;
  /** The principal (user id) that created it; only it (or an owner) may read it. */
  requester: string;
  tool: string;
  arguments: JsonValue;
  risk: string;
  agent: string;
  session: string;
  context: JsonValue;
  createdAt: number;
  expiresAt: number;
  status: ApprovalStatus;
  decidedAt: number | null;
  approver: string | null;
  reason: string | null;
}

export interface NewApproval
  extends Pick<ApprovalRecord, "id" | "requester" | "tool" | "arguments" | "risk" | "agent" | "session" | "context"> {
  /** How long the owner has to decide, milliseconds (the caller bounds it). */
  ttlMs: number;
}

/** A record as SQL backends keep it: snake_case columns, JSON as text or parsed, bigints maybe as text. */
export interface ApprovalRow {
  id: string;
  ref: string;
  requester: string;
  tool: string;
  arguments: JsonValue;
  risk: string;
  agent: string;
  session: string;
  context: JsonValue;
  created_at: number | string;
  expires_at: number | string;
  status: ApprovalStatus;
  decided_at: number | string | null;
  approver: string | null;
  reason: string | null;
}

/** A SQL row as a record; `json` turns a stored arguments/context column into its value. */
export function approvalFromRow(row: ApprovalRow, json: (stored: JsonValue) => JsonValue = (v) => v): ApprovalRecord {
  return {
    id: row.id,
    ref: row.ref,
    requester: row.requester,
    tool: row.tool,
    arguments: json(row.arguments),
    risk: row.risk,
    agent: row.agent,
    session: row.session,
    context: json(row.context),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    status: row.status,
    decidedAt: row.decided_at === null ? null : Number(row.decided_at),
    approver: row.approver,
    reason: row.reason,
  };
}

/** An audit listener that hands the approval events among all audit events to `listener`. */
export function approvalEventsOnly(listener: (event: ApprovalEvent) => void): (audit: AuditEvent) => void {
  return (audit) => {
    const event = approvalEventOf(audit);
    if (event) deliverApprovalEvent(listener, event);
  };
}

export interface ApprovalDecision {
  outcome: ApprovalOutcome;
  /** Who decided: `telegram:42`, an API principal, `policy`, or `system` for an expiry. */
  approver: string;
  reason: string;
}

export interface DecideResult {
  /** True for the one call that decided; false when it was already decided (or not decidable now). */
  won: boolean;
  /** The request as it now stands (the winner's decision), null when there is no such request. */
  record: ApprovalRecord | null;
}

/** What subscribers hear, from every process and instance sharing the store. */
export interface ApprovalEvent {
  type: "requested" | "decided";
  id: string;
  status: ApprovalStatus;
  actor: string;
  at: number;
}

/** Approval storage; every method answers within the store's deadline or rejects (the caller fails closed). */
export interface ApprovalStore {
  /** Creates a pending request; an existing id is returned unchanged with `created: false` (idempotent retries). */
  create(input: NewApproval): Promise<{ created: boolean; record: ApprovalRecord }>;
  get(id: string): Promise<ApprovalRecord | null>;
  getByRef(ref: string): Promise<ApprovalRecord | null>;
  /**
   * Records the first decision, atomically: approved/denied only while pending and unexpired, expired only once past
   * the expiry. Appends one audit event for the winner.
   */
  decide(id: string, decision: ApprovalDecision): Promise<DecideResult>;
  /** Pending requests, oldest first (expired ones are left out). */
  listPending(): Promise<ApprovalRecord[]>;
  /** The first claim of (id, holder) wins, on every instance: e.g. who sends the cards of one channel. */
  claim(id: string, holder: string): Promise<boolean>;
  subscribe(listener: (event: ApprovalEvent) => void): () => void;
  close(): Promise<void>;
}

export interface ApprovalStoreOptions {
  now?: Clock;
}

/** Decided requests are kept this long after their expiry, so a slow poller still reads the answer. */
export const APPROVAL_RETENTION_MS = 24 * 60 * 60_000;

/** The audit channel type of approval events; the channel id is the request id. */
export const APPROVAL_AUDIT_CHANNEL = "approval";

const AUDIT_TYPES = {
  requested: "approval-requested",
  approved: "approval-approved",
  denied: "approval-denied",
  expired: "approval-expired",
} as const;

export type ApprovalAuditType = (typeof AUDIT_TYPES)[keyof typeof AUDIT_TYPES];

/** The audit event type of a new request ("requested") or of a decision. */
export function approvalAuditType(type: ApprovalStatus | "requested"): ApprovalAuditType {
  return AUDIT_TYPES[type === "pending" ? "requested" : type];
}

/** A fresh pending record (ref from the CSPRNG). */
export function newApprovalRecord(input: NewApproval, now: number): ApprovalRecord {
  return {
    id: input.id,
    ref: generateRawCode(),
    requester: input.requester,
    tool: input.tool,
    arguments: input.arguments,
    risk: input.risk,
    agent: input.agent,
    session: input.session,
    context: input.context,
    createdAt: now,
    expiresAt: now + input.ttlMs,
    status: "pending",
    decidedAt: null,
    approver: null,
    reason: null,
  };
}

/** Whether `decision` may be recorded on a request in `status` expiring at `expiresAt`, at `now`. */
export function isDecidable(status: ApprovalStatus, expiresAt: number, outcome: ApprovalOutcome, now: number): boolean {
  if (status !== "pending") return false;
  return outcome === "expired" ? now >= expiresAt : now < expiresAt;
}

export const EXPIRED_REASON = "expired: nobody decided in time";

/** How a record reads at `now`: a pending request past its expiry is expired (denied with a reason). */
export function approvalView(record: ApprovalRecord, now: number): ApprovalRecord {
  if (record.status !== "pending" || now < record.expiresAt) return record;
  return { ...record, status: "expired", decidedAt: record.expiresAt, approver: "system", reason: EXPIRED_REASON };
}

/** The audit event (without id) a backend appends for a new request or a decision. Never holds the arguments. */
export function approvalAuditEvent(
  record: ApprovalRecord,
  type: ApprovalStatus | "requested",
  actor: string,
  at: number,
): Omit<AuditEvent, "id"> {
  const detail: Record<string, JsonValue> = {
    tool: record.tool,
    risk: record.risk,
    agent: record.agent,
    session: record.session,
  };
  if (type !== "requested" && type !== "pending" && record.reason) detail.reason = record.reason;
  return {
    at,
    type: approvalAuditType(type),
    channelType: APPROVAL_AUDIT_CHANNEL,
    channelId: record.id,
    actor,
    detail,
  };
}

/** The approval event an audit event stands for, or null for any other event. */
export function approvalEventOf(event: Pick<AuditEvent, "type" | "channelId" | "actor" | "at">): ApprovalEvent | null {
  switch (event.type as string) {
    case AUDIT_TYPES.requested:
      return { type: "requested", id: event.channelId, status: "pending", actor: event.actor, at: event.at };
    case AUDIT_TYPES.approved:
      return { type: "decided", id: event.channelId, status: "approved", actor: event.actor, at: event.at };
    case AUDIT_TYPES.denied:
      return { type: "decided", id: event.channelId, status: "denied", actor: event.actor, at: event.at };
    case AUDIT_TYPES.expired:
      return { type: "decided", id: event.channelId, status: "expired", actor: event.actor, at: event.at };
    default:
      return null;
  }
}

/** Rows and hashes keep arguments and context as JSON text; a record read back parses them. */
export function parseJsonField(text: string | null | undefined): JsonValue {
  if (text === null || text === undefined || text === "") return null;
  return JSON.parse(text) as JsonValue;
}

/** Runs a listener without letting its failure reach the store. */
export function deliverApprovalEvent(listener: (event: ApprovalEvent) => void, event: ApprovalEvent): void {
  try {
    listener({ ...event });
  } catch (error) {
    process.emitWarning(`a gatehouse approval subscriber threw: ${(error as Error)?.message ?? String(error)}`);
  }
}
