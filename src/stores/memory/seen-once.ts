import type { SeenOnceStore } from "../types.js";

/** Seen-once keys in this process (the memory backend is one process anyway); expired keys are dropped as they are met. */
export class MemorySeenOnceStore implements SeenOnceStore {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async firstSighting(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const expires = this.until.get(key);
    if (expires !== undefined && expires > now) return false;
    this.until.set(key, now + ttlMs);
    if (this.until.size > 10_000) for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
    return true;
  }
}
