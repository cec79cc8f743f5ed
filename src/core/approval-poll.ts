/**
 * How a socket waiting for the owner's approval learns of it when the pairing store cannot push decisions (it has no
 * `subscribe()`): every APPROVAL_POLL_INTERVAL_MS the gateway asks the store `isPaired` for each waiting device (in one
 * `isPairedMany` round when the store has it), each call under the store deadline, one round at a time. The answer
 * comes only from the store, never from the client. Stores with `subscribe()` are not polled: their events arrive at
 * once, from every process and instance.
 */
export const APPROVAL_POLL_INTERVAL_MS = 2_000;

/** Something waiting for approval that can look the answer up in the store itself. */
export interface AwaitingApproval {
  /** Asks the store whether the device is paired now and, if so, lets it in. Resolves when done, never rejects. */
  checkApproval(): Promise<void>;
}

/**
 * Runs the poll while anything waits: one timer (unref'ed, so it never keeps the process alive), a new round only
 * after the previous one ended, so a slow store never piles rounds up.
 */
export class ApprovalPoll {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly waiting: () => Iterable<AwaitingApproval>,
    private readonly intervalMs = APPROVAL_POLL_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.round(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await Promise.all([...this.waiting()].map((entry) => entry.checkApproval()));
    } finally {
      this.running = false;
    }
  }
}
