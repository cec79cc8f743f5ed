import { setTimeout as sleep } from "node:timers/promises";
import type { Lease, LeaseStore } from "../stores/lease.js";
import type { GatewayLogger } from "./logger.js";

/** What a holder of a lease gets while it holds it. */
export interface HeldLease {
  readonly lease: Lease;
  /** The cursor committed under this lease's name by any earlier holder (e.g. Telegram's next update offset), or null. */
  readonly cursor: string | null;
  /** Aborts when the lease is lost (a renewal refused or failed, a commit refused) or the keeper stops. */
  readonly signal: AbortSignal;
  /**
   * A cheap check before each act: the lease has not been lost and, by this process's clock, cannot have expired
   * (a process that was paused past its lease sees that here before it acts).
   */
  valid(): boolean;
  /** Commits `cursor`, checked against the fencing token in the store; false means the lease was lost (and signal aborts). */
  commit(cursor: string): Promise<boolean>;
}

export interface LeaseKeeperOptions {
  /** How long a lease lasts without renewal; another instance takes over this long after a holder dies. */
  ttlMs: number;
  logger: () => GatewayLogger;
  /** Fields for every log line (e.g. the channel type); never secrets. */
  fields?: Record<string, unknown>;
}

/**
 * Holds one named lease for this instance whenever it can, and runs the work that needs it only while it holds it:
 * tries to acquire every third of the lease time, renews at a third, and aborts the work when a renewal is refused or
 * fails (a store that cannot answer means stepping down: fail closed). Of all instances running a keeper for the same
 * name, exactly one runs the work at a time; when it dies, another takes over within the lease time.
 */
export class LeaseKeeper {
  private readonly stopping = new AbortController();
  private running: Promise<void> = Promise.resolve();

  /** How long the lease lasts without renewal. */
  get ttlMs(): number {
    return this.options.ttlMs;
  }

  constructor(
    private readonly store: LeaseStore,
    readonly name: string,
    readonly holder: string,
    private readonly options: LeaseKeeperOptions,
  ) {}

  /**
   * Starts competing for the lease; `work` runs each time it is acquired and must return once `held.signal` aborts.
   * `onStandby` is called each time another instance turns out to hold it.
   */
  run(work: (held: HeldLease) => Promise<void>, onStandby?: () => void): void {
    this.running = this.loop(work, onStandby);
  }

  /** Stops competing, waits for the work to return and releases the lease, so another instance need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private get retryMs(): number {
    return Math.max(50, Math.floor(this.options.ttlMs / 3));
  }

  private log(level: "info" | "warn", message: string, extra: Record<string, unknown> = {}): void {
    this.options.logger()[level](message, { lease: this.name, ...this.options.fields, ...extra });
  }

  private async loop(work: (held: HeldLease) => Promise<void>, onStandby?: () => void): Promise<void> {
    let standingBy = false;
    while (!this.stopping.signal.aborted) {
      const asked = Date.now();
      let lease: Lease | null = null;
      let cursor: string | null = null;
      try {
        lease = await this.store.acquire(this.name, this.holder, this.options.ttlMs);
        if (lease) cursor = (await this.store.current(this.name))?.cursor ?? null;
      } catch (error) {
        this.log("warn", "lease: the store did not answer; not acting until it does", { error: errorName(error) });
        lease = null;
      }
      if (!lease) {
        if (!standingBy) {
          this.log("info", "lease held by another instance; standing by");
          onStandby?.();
        }
        standingBy = true;
        await sleep(this.retryMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
        continue;
      }
      standingBy = false;
      this.log("info", "lease acquired", { token: lease.token });
      await this.hold(lease, cursor, asked, work);
    }
  }

  private async hold(
    acquired: Lease,
    cursor: string | null,
    asked: number,
    work: (held: HeldLease) => Promise<void>,
  ): Promise<void> {
    const lost = new AbortController();
    const onStop = (): void => lost.abort();
    // stop() may have come while the store was still granting the lease: a listener added now would never fire.
    if (this.stopping.signal.aborted) lost.abort();
    else this.stopping.signal.addEventListener("abort", onStop, { once: true });
    let lease = acquired;
    // By this process's clock, measured from before the store was asked: never later than the store's expiry.
    let validUntil = asked + this.options.ttlMs;
    const loseWith = (reason: string, extra: Record<string, unknown> = {}): void => {
      if (lost.signal.aborted) return;
      if (!this.stopping.signal.aborted) this.log("warn", `lease lost: ${reason}; stepping down`, extra);
      lost.abort();
    };
    const renewing = (async () => {
      while (!lost.signal.aborted) {
        await sleep(this.retryMs, undefined, { signal: lost.signal }).catch(() => undefined);
        if (lost.signal.aborted) return;
        if (Date.now() >= validUntil)
          return loseWith("it expired before it could be renewed (was this process paused?)");
        const asking = Date.now();
        try {
          const renewed = await this.store.renew(lease, this.options.ttlMs);
          if (!renewed) return loseWith("another instance holds it now");
          lease = renewed;
          validUntil = asking + this.options.ttlMs;
        } catch (error) {
          return loseWith("the store did not answer the renewal", { error: errorName(error) });
        }
      }
    })();
    const held: HeldLease = {
      get lease() {
        return lease;
      },
      cursor,
      signal: lost.signal,
      valid: () => !lost.signal.aborted && Date.now() < validUntil,
      commit: async (value) => {
        if (!held.valid()) return false;
        try {
          if (await this.store.commit(lease, value)) return true;
          loseWith("a commit was refused: another instance holds it now");
        } catch (error) {
          loseWith("the store did not answer a commit", { error: errorName(error) });
        }
        return false;
      },
    };
    try {
      await work(held);
    } catch (error) {
      this.log("warn", "work under the lease failed", { error: errorName(error) });
    } finally {
      lost.abort();
      await renewing;
      this.stopping.signal.removeEventListener("abort", onStop);
    }
    if (this.stopping.signal.aborted) {
      await this.store.release(lease).catch(() => false);
      return;
    }
    // Work that ended on its own (not by losing the lease) is not restarted at once in a tight loop.
    await sleep(this.retryMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
