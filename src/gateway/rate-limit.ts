/** A token bucket: `capacity` requests at once, refilled at `refillPerSecond`. One per connection. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(capacity >= 1) || !(refillPerSecond > 0)) throw new TypeError("rate limit needs capacity >= 1 and refillPerSecond > 0");
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty (the request must be refused). */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
