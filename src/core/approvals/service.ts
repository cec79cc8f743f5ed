import type { EventEmitter } from "node:events";
import type { JsonValue } from "../../protocols/types.js";
import {
  EXPIRED_REASON,
  type ApprovalEvent,
  type ApprovalOutcome,
  type ApprovalRecord,
  type ApprovalStore,
  type DecideResult,
} from "../../stores/approvals.js";
import type { GatewayLogger } from "../logger.js";
import { withDeadline } from "../deadline.js";
import { GatewayError } from "../errors.js";
import { policyVerdict, type ApprovalRule, type RiskLevel } from "./policy.js";

export interface ApprovalOptions {
  /** How long the owner has when the request names no timeout; default 5 minutes. */
  defaultTimeoutMs?: number;
  /** The longest timeout a request may ask for; default 1 hour. */
  maxTimeoutMs?: number;
  /** Config rules that approve or deny at once by tool name and risk level (a matching deny wins). */
  rules?: ApprovalRule[];
}

export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_MAX_APPROVAL_TIMEOUT_MS = 60 * 60_000;
/** After a store failure, an expiry is tried again this much later. */
const EXPIRY_RETRY_MS = 5_000;

/** What an agent asks for (already validated). */
export interface NewApprovalRequest {
  id: string;
  tool: string;
  arguments: JsonValue;
  risk: RiskLevel;
  agent: string;
  session: string;
  context: JsonValue;
  timeoutMs?: number;
}

/** The answer PraisonAI's WebhookApproval polls for: `{status:"pending"}`, then `{approved, reason, approver}`. */
export type ApprovalAnswer = { status: "pending" } | { approved: boolean; reason: string; approver: string | null };

export function answerOf(record: ApprovalRecord): ApprovalAnswer {
  if (record.status === "pending") return { status: "pending" };
  return { approved: record.status === "approved", reason: record.reason ?? record.status, approver: record.approver };
}

/**
 * The gateway's side of approval requests: creating them (with the config policy), reading and waiting for decisions,
 * recording the first decision, and recording expiries when they fall due. Every instance runs one; the store decides
 * which decision wins and tells them all. Callers authorise first (approval-actions.ts, the button handler).
 */
export class ApprovalService {
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  private readonly rules: readonly ApprovalRule[];
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private unsubscribe: () => void = () => {};
  private stopped = false;

  constructor(
    readonly store: ApprovalStore,
    private readonly deps: { events: EventEmitter; logger: GatewayLogger; now: () => number },
    options: ApprovalOptions = {},
  ) {
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    this.maxTimeoutMs = options.maxTimeoutMs ?? DEFAULT_MAX_APPROVAL_TIMEOUT_MS;
    if (!(this.defaultTimeoutMs > 0 && this.defaultTimeoutMs <= this.maxTimeoutMs)) {
      throw new TypeError("approvals.defaultTimeoutMs must be positive and at most approvals.maxTimeoutMs");
    }
    this.rules = [...(options.rules ?? [])];
  }

  /** Follows the store's events (every instance's) and schedules the expiry of requests already pending. */
  async start(): Promise<void> {
    this.unsubscribe = this.store.subscribe((event) => this.onEvent(event));
    try {
      for (const record of await withDeadline("approvals.listPending", () => this.store.listPending()))
        this.scheduleExpiry(record);
    } catch (error) {
      this.deps.logger.warn("could not read pending approval requests; their expiry is recorded when they are read", {
        error: errorName(error),
      });
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const wake of [...this.waiters.values()].flatMap((set) => [...set])) wake();
  }

  /** Creates a request (a retry with the same id and requester gets the same request) and applies the policy rules. */
  async create(requester: string, input: NewApprovalRequest): Promise<ApprovalRecord> {
    const ttlMs = input.timeoutMs ?? this.defaultTimeoutMs;
    if (ttlMs > this.maxTimeoutMs) {
      throw new GatewayError(
        "invalid_request",
        `timeout_seconds: must be at most ${this.maxTimeoutMs / 1000}`,
        "timeout_seconds",
      );
    }
    const { created, record } = await this.call("approvals.create", () =>
      this.store.create({ ...input, requester, ttlMs: Math.ceil(ttlMs) }),
    );
    if (record.requester !== requester) {
      throw new GatewayError(
        "invalid_request",
        "request_id: is already used by another request; send a new id",
        "request_id",
      );
    }
    if (!created) return record;
    this.scheduleExpiry(record);
    const verdict = policyVerdict(this.rules, record.tool, record.risk);
    if (!verdict) return record;
    const outcome: ApprovalOutcome = verdict.approved ? "approved" : "denied";
    const decided = await this.decide(record.id, outcome, "policy", verdict.reason);
    return decided.record ?? record;
  }

  /** The request as it reads now; a pending request past its expiry reads expired (and the expiry is recorded). */
  async get(id: string): Promise<ApprovalRecord | null> {
    const record = await this.call("approvals.get", () => this.store.get(id));
    if (record?.status === "expired" && record.decidedAt === record.expiresAt) void this.expire(id);
    return record;
  }

  async getByRef(ref: string): Promise<ApprovalRecord | null> {
    return this.call("approvals.getByRef", () => this.store.getByRef(ref));
  }

  async listPending(): Promise<ApprovalRecord[]> {
    return this.call("approvals.listPending", () => this.store.listPending());
  }

  /** Waits up to `ms` for a decision on `id` (any instance's), then reads it. */
  async waitForDecision(id: string, ms: number, signal?: AbortSignal): Promise<ApprovalRecord | null> {
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const set = this.waiters.get(id) ?? new Set();
    set.add(wake);
    this.waiters.set(id, set);
    const timer = setTimeout(wake, ms);
    signal?.addEventListener("abort", wake, { once: true });
    try {
      // Registered first, read second: a decision made in between is either seen here or wakes us.
      const now = await this.get(id);
      if (!now || now.status !== "pending" || this.stopped) return now;
      await woken;
      return await this.get(id);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", wake);
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(id);
    }
  }

  /** Records a decision; of racing calls on any instance exactly one wins. The caller has authorised `approver`. */
  async decide(id: string, outcome: ApprovalOutcome, approver: string, reason: string): Promise<DecideResult> {
    const result = await this.call("approvals.decide", () => this.store.decide(id, { outcome, approver, reason }));
    if (result.won) this.deps.logger.info(`approval request ${outcome}`, { by: approver });
    return result;
  }

  private async expire(id: string): Promise<void> {
    try {
      await this.decide(id, "expired", "system", EXPIRED_REASON);
    } catch (error) {
      this.deps.logger.warn("could not record an approval expiry; trying again", { error: errorName(error) });
      if (!this.stopped) this.later(id, EXPIRY_RETRY_MS);
    }
  }

  private scheduleExpiry(record: Pick<ApprovalRecord, "id" | "expiresAt" | "status">): void {
    if (record.status !== "pending" || this.stopped || this.timers.has(record.id)) return;
    this.later(record.id, Math.max(0, record.expiresAt - this.deps.now()));
  }

  private later(id: string, ms: number): void {
    clearTimeout(this.timers.get(id));
    const timer = setTimeout(
      () => {
        this.timers.delete(id);
        void this.expire(id);
      },
      Math.min(ms, 2 ** 31 - 1),
    );
    timer.unref();
    this.timers.set(id, timer);
  }

  private onEvent(event: ApprovalEvent): void {
    if (event.type === "requested") {
      if (!this.timers.has(event.id)) {
        void this.get(event.id)
          .then((record) => record && this.scheduleExpiry(record))
          .catch(() => undefined);
      }
    } else {
      clearTimeout(this.timers.get(event.id));
      this.timers.delete(event.id);
      for (const wake of this.waiters.get(event.id) ?? []) wake();
    }
    try {
      this.deps.events.emit(`approval.${event.type}`, event);
    } catch (error) {
      this.deps.logger.error("an approval event listener threw", { error: errorName(error) });
    }
  }

  /** A store call under the deadline; a failure is "unavailable" (fail closed, nothing changed, say so). */
  private async call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(operation, work);
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      this.deps.logger.warn("approval store call failed", { operation, error: errorName(error) });
      throw new GatewayError(
        "unavailable",
        "the approval store is temporarily unavailable; nothing was changed, try again shortly",
      );
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
