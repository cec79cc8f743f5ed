/** A token bucket: `capacity` requests at once, refilled at `refillPerSecond`. One per connection. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(capacity >= 1) || !(refillPerSecond > 0))
      throw new TypeError("rate limit needs capacity >= 1 and refillPerSecond > 0");
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty (the request must be refused). */
  take(): boolean {
    if (!this.available()) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether a token is there, without taking it. */
  available(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  /** Full again: the bucket can be forgotten (a new one starts full). */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
  }
}

/** One token bucket per key (a network address), forgetting keys whose bucket has filled up again. */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly limit: { capacity: number; refillPerSecond: number }) {}

  get(key: string): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.limit.capacity, this.limit.refillPerSecond);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  prune(): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(key);
  }
}
