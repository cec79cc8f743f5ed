import type { GatewayContext } from "../core/context.js";
import type { GatewayLeases } from "../core/leases.js";
import type { Lease } from "../stores/lease.js";
import type { AuditEvent } from "../stores/types.js";
import { errorName } from "./redact.js";
import type { FirstSighting } from "./seen-once.js";

/** Lease names of decision notices: `notice:<channel type>:<audit event id>`. */
export const NOTICE_LEASE_PREFIX = "notice:";
const HOUR = 60 * 60_000;
/** How long a decision's notice claim is kept (so a feed that hands the event out again tells nobody twice). */
const NOTICE_MEMORY_MS = 24 * HOUR;
/** After this long (since this instance heard the decision) an unfinished notice is given up, with a log line. */
const GIVE_UP_AFTER_MS = HOUR;
/** How often an instance removes notice claims older than NOTICE_MEMORY_MS. */
const PRUNE_EVERY_MS = 10 * 60_000;
/** The cursor of a notice whose every step was done. */
export const NOTICE_DONE = "done";

/** One step of telling a sender about a decision (a message sent, the first message replayed), done in order. */
export type NoticeStep = () => Promise<void>;

export interface NoticeClaimsDeps {
  ctx: GatewayContext;
  channelType: string;
  /** The fallback without a shared lease store: the first instance to record the decision tells it (at most once). */
  firstSighting: FirstSighting;
  /** Aborted when the channel stops: no further step or retry. */
  signal: AbortSignal;
  /** Runs a retry in the sender's queue (in order with their messages). */
  requeue: (senderId: string, attempt: () => Promise<void>) => void;
}

/**
 * Telling a sender about a decision once across instances, driven by a claim in the store rather than by which
 * instance's feed saw the event: the claim is a lease `notice:<type>:<event id>` (leases.ts, fenced) whose cursor counts
 * the steps done. Every instance that hears the decision tries to take it; the holder (renewing it while it works) does
 * the remaining steps, committing each under its fencing token, then marks it done (and keeps the claim for
 * NOTICE_MEMORY_MS). An instance that finds it held looks again once the lease can have run out, so when the holder
 * died or was paused between the decision and the notice (or failed to send), another instance takes it over after the
 * lease time and carries on from the last step committed. A step is
 * repeated only when its holder died after doing it and before committing it (at least once for that step, never a
 * whole notice twice). Without shared leases (a custom store) it falls back to the store's seen-once keys: at most once.
 */
export class NoticeClaims {
  private readonly leases: GatewayLeases | undefined;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: NoticeClaimsDeps) {
    this.leases = deps.ctx.leases;
  }

  /** Runs `steps` for `event` once across the instances (see the class); `senderId` orders retries with their messages. */
  async tell(event: AuditEvent, senderId: string, steps: NoticeStep[], heardAt = Date.now()): Promise<void> {
    const leases = this.leases;
    if (!leases) {
      if (await this.firstSighting(event)) for (const step of steps) await step();
      return;
    }
    if (this.deps.signal.aborted) return;
    const name = `${NOTICE_LEASE_PREFIX}${this.deps.channelType}:${event.id}`;
    const retry = (): void => this.retryLater(event, senderId, steps, heardAt, leases.ttlMs);
    let lease: Lease | null = null;
    let done = 0;
    const asked = Date.now();
    try {
      // Done already (by another instance, or before a resync handed the event out again): nothing to claim.
      let cursor = (await leases.store.current(name))?.cursor ?? null;
      if (cursor !== NOTICE_DONE) {
        lease = await leases.store.acquire(name, leases.instanceId, leases.ttlMs);
        if (lease) cursor = (await leases.store.current(name))?.cursor ?? null;
      }
      if (cursor === NOTICE_DONE) return this.log("info", "decision already told by another instance", event);
      done = Number(cursor ?? 0) || 0;
    } catch (error) {
      this.log("warn", "could not claim a decision's notice in the store: trying again later", event, error);
      return retry();
    }
    if (!lease) {
      this.log("info", "decision already told by another instance", event);
      return retry();
    }
    let held = lease;
    // By this process's clock, measured from before the store was asked: never later than the store's expiry.
    let validUntil = asked + leases.ttlMs;
    // Renewed every third of the lease while a step runs (a slow send, a flood wait), so only a holder that died or
    // was paused loses the claim; a refused or failed renewal means another instance may take it over.
    const renewal = setInterval(
      () => {
        const asking = Date.now();
        leases.store.renew(held, leases.ttlMs).then(
          (renewed) => {
            if (renewed) [held, validUntil] = [renewed, asking + leases.ttlMs];
            else validUntil = 0;
          },
          () => undefined,
        );
      },
      Math.max(50, Math.floor(leases.ttlMs / 3)),
    );
    renewal.unref();
    try {
      for (let step = done; step < steps.length; step++) {
        if (this.deps.signal.aborted || Date.now() >= validUntil) return retry();
        await steps[step]!();
        const last = step + 1 === steps.length;
        if (!(await leases.store.commit(held, last ? NOTICE_DONE : String(step + 1)))) {
          return this.log("warn", "a decision's notice was taken over by another instance", event);
        }
      }
      // Not released: the claim, marked done, runs out on its own and is kept (pruned after NOTICE_MEMORY_MS), so an
      // instance that looks again, or hears the event again, finds it done. A released lease would be pruned at once.
      void this.prune(leases);
    } catch (error) {
      // The lease is left to run out: another instance (or this one) carries on from the last step committed.
      this.log("warn", "could not tell the sender about the decision: another attempt follows", event, error);
      retry();
    } finally {
      clearInterval(renewal);
    }
  }

  private retryLater(event: AuditEvent, senderId: string, steps: NoticeStep[], heardAt: number, ttlMs: number): void {
    if (this.deps.signal.aborted) return;
    if (Date.now() - heardAt >= GIVE_UP_AFTER_MS) {
      return this.log("error", "gave up telling the sender about a decision: no instance could for an hour", event);
    }
    const timer = setTimeout(() => {
      this.deps.signal.removeEventListener("abort", cancel);
      this.deps.requeue(senderId, () => this.tell(event, senderId, steps, heardAt));
    }, ttlMs + 100);
    timer.unref();
    const cancel = (): void => clearTimeout(timer);
    this.deps.signal.addEventListener("abort", cancel, { once: true });
  }

  private async firstSighting(event: AuditEvent): Promise<boolean> {
    try {
      const first = await this.deps.firstSighting(`decision:${event.id}`, NOTICE_MEMORY_MS);
      if (!first) this.log("info", "decision already told by another instance", event);
      return first;
    } catch (error) {
      this.log(
        "warn",
        "could not tell whether another instance told the sender about a decision: nothing sent",
        event,
        error,
      );
      return false;
    }
  }

  /** Forgets notice claims older than NOTICE_MEMORY_MS, at most every PRUNE_EVERY_MS (best effort). */
  private async prune(leases: GatewayLeases): Promise<void> {
    if (Date.now() - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = Date.now();
    await leases.store.prune(NOTICE_LEASE_PREFIX, Date.now() - NOTICE_MEMORY_MS).catch(() => 0);
  }

  private log(level: "info" | "warn" | "error", message: string, event: AuditEvent, error?: unknown): void {
    this.deps.ctx.logger[level](message, {
      channelType: this.deps.channelType,
      eventId: event.id,
      ...(error === undefined ? {} : { error: errorName(error) }),
    });
  }
}
