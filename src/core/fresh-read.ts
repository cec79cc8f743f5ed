/**
 * One value asked of the store by many callers at once (e.g. the device policy, checked before every webchat request),
 * each answered by a read that was sent after it asked: a caller that comes while no read is under way starts one; the
 * callers that come while one is under way wait for it to end and then share the next. So a change committed before a
 * caller asked is always seen by it, as with a read of its own, while a busy gateway sends one read per store round
 * trip instead of one per caller (PairedBatch does the same for isPaired). Every read should carry its own deadline,
 * so one that hangs fails its callers and frees the next.
 */
export class FreshRead<T> {
  private current: Promise<T> | null = null;
  private next: Promise<T> | null = null;

  constructor(private readonly read: () => Promise<T>) {}

  get(): Promise<T> {
    if (this.next) return this.next;
    if (!this.current) return this.start();
    const settled = this.current.then(
      () => undefined,
      () => undefined,
    );
    this.next = settled.then(() => {
      this.next = null;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<T> {
    let round: Promise<T>;
    try {
      round = this.read();
    } catch (error) {
      round = Promise.reject(error as Error);
    }
    this.current = round;
    const done = (): void => {
      if (this.current === round) this.current = null;
    };
    round.then(done, done);
    return round;
  }
}
