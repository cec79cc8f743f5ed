/** Thrown when a session already has as many messages waiting as it may; the sender is told to wait. */
export class TurnQueueFullError extends Error {
  override readonly name = "TurnQueueFullError";
  constructor(readonly waiting: number) {
    super(`${waiting} messages are already waiting for this session`);
  }
}

/**
 * How a turn learns it was cancelled (`/stop`, or the client leaving): `aborted` is cheap to read, and `signal`, an
 * AbortSignal for the agent's own requests, is made the first time something asks for it. Most agents never ask (an
 * AbortController and its listener on the connection's signal cost about 2.5 µs per message in bench/gateway.ts).
 */
export class TurnCancel {
  private controller: AbortController | null = null;
  private follow: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly outer: AbortSignal) {}

  get aborted(): boolean {
    return this.stopped || this.outer.aborted;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.aborted) controller.abort();
      else {
        this.follow = () => controller.abort();
        this.outer.addEventListener("abort", this.follow, { once: true });
      }
    }
    return this.controller.signal;
  }

  /** Cancels this turn (not the connection it came on). */
  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  /** The turn is over: it stops following the connection's signal. */
  finish(): void {
    if (this.follow) this.outer.removeEventListener("abort", this.follow);
  }
}

interface SessionSlot {
  /** The turn that is running now. */
  running: TurnCancel | null;
  waiting: number;
  /** The last turn asked for (its caller handles how it ends); the next one starts after it. */
  tail: Promise<unknown> | null;
}

/**
 * One agent turn at a time per session: a message that arrives while the agent is answering waits for it (at most
 * `maxWaiting` of them; past that, TurnQueueFullError), and stop() cancels the running turn through its TurnCancel,
 * whose signal aborts the agent's request. This is the state of the turns running in this process, so it lives here.
 */
export class SessionTurns {
  private readonly slots = new Map<string, SessionSlot>();

  constructor(readonly maxWaiting = 3) {
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0)
      throw new TypeError("maxWaiting must be a non-negative integer");
  }

  run<T>(sessionId: string, outer: AbortSignal, task: (cancel: TurnCancel) => Promise<T>): Promise<T> {
    const slot = this.slots.get(sessionId);
    if (!slot) {
      // Nothing running or waiting for this session: the turn starts now.
      const fresh: SessionSlot = { running: null, waiting: 1, tail: null };
      this.slots.set(sessionId, fresh);
      const result = this.start(sessionId, fresh, outer, task);
      fresh.tail = result;
      return result;
    }
    if (slot.waiting >= this.maxWaiting) return Promise.reject(new TurnQueueFullError(slot.waiting));
    slot.waiting++;
    // After the turn before it, however that one ended.
    const begin = (): Promise<T> => this.start(sessionId, slot, outer, task);
    const result = (slot.tail ?? Promise.resolve()).then(begin, begin);
    slot.tail = result;
    return result;
  }

  /** Cancels the session's running turn; false when nothing was running. */
  stop(sessionId: string): boolean {
    const running = this.slots.get(sessionId)?.running;
    if (!running) return false;
    running.stop();
    return true;
  }

  /** Whether the session has a turn running now. */
  busy(sessionId: string): boolean {
    return (this.slots.get(sessionId)?.running ?? null) !== null;
  }

  private async start<T>(
    sessionId: string,
    slot: SessionSlot,
    outer: AbortSignal,
    task: (cancel: TurnCancel) => Promise<T>,
  ): Promise<T> {
    slot.waiting--;
    const cancel = new TurnCancel(outer);
    slot.running = cancel;
    try {
      return await task(cancel);
    } finally {
      cancel.finish();
      slot.running = null;
      if (slot.waiting === 0 && this.slots.get(sessionId) === slot) this.slots.delete(sessionId);
    }
  }
}
