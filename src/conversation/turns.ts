/** Thrown when a session already has as many messages waiting as it may; the sender is told to wait. */
export class TurnQueueFullError extends Error {
  override readonly name = "TurnQueueFullError";
  constructor(readonly waiting: number) {
    super(`${waiting} messages are already waiting for this session`);
  }
}

interface SessionSlot {
  /** Cancels the turn that is running now. */
  running: AbortController | null;
  waiting: number;
  tail: Promise<unknown>;
}

/**
 * One agent turn at a time per session: a message that arrives while the agent is answering waits for it (at most
 * `maxWaiting` of them; past that, TurnQueueFullError), and stop() cancels the running turn through its AbortSignal,
 * which aborts the agent's request. This is the state of the turns running in this process, so it lives here.
 */
export class SessionTurns {
  private readonly slots = new Map<string, SessionSlot>();

  constructor(readonly maxWaiting = 3) {
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0)
      throw new TypeError("maxWaiting must be a non-negative integer");
  }

  run<T>(sessionId: string, outer: AbortSignal, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let slot = this.slots.get(sessionId);
    if (!slot) {
      slot = { running: null, waiting: 0, tail: Promise.resolve() };
      this.slots.set(sessionId, slot);
    } else if (slot.running !== null || slot.waiting > 0) {
      if (slot.waiting >= this.maxWaiting) return Promise.reject(new TurnQueueFullError(slot.waiting));
    }
    const current = slot;
    current.waiting++;
    const result = current.tail.then(() => this.start(sessionId, current, outer, task));
    current.tail = result.catch(() => undefined);
    return result;
  }

  /** Cancels the session's running turn; false when nothing was running. */
  stop(sessionId: string): boolean {
    const running = this.slots.get(sessionId)?.running;
    if (!running) return false;
    running.abort();
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
    task: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    slot.waiting--;
    const controller = new AbortController();
    const cancel = (): void => controller.abort();
    if (outer.aborted) controller.abort();
    else outer.addEventListener("abort", cancel, { once: true });
    slot.running = controller;
    try {
      return await task(controller.signal);
    } finally {
      outer.removeEventListener("abort", cancel);
      slot.running = null;
      if (slot.waiting === 0 && this.slots.get(sessionId) === slot) this.slots.delete(sessionId);
    }
  }
}
