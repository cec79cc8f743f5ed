import { afterGiveBack, afterTake, budgetTiming, type BudgetStore, type RateLimit } from "../budget.js";
import type { Clock } from "../types.js";

/** Budgets in this process's memory (the memory backend is one process's anyway); keys whose budget is full are dropped. */
export class MemoryBudgetStore implements BudgetStore {
  private readonly arrivals = new Map<string, number>();

  constructor(private readonly now: Clock = Date.now) {}

  async take(key: string, limit: RateLimit): Promise<boolean> {
    const timing = budgetTiming(key, limit);
    const now = this.now();
    this.prune(now);
    const next = afterTake(this.arrivals.get(key), now, timing);
    if (next === null) return false;
    this.arrivals.set(key, next);
    return true;
  }

  async giveBack(key: string, limit: RateLimit): Promise<void> {
    const timing = budgetTiming(key, limit);
    const now = this.now();
    const next = afterGiveBack(this.arrivals.get(key), now, timing);
    if (next <= now) this.arrivals.delete(key);
    else this.arrivals.set(key, next);
  }

  private prune(now: number): void {
    if (this.arrivals.size < 1_000) return;
    for (const [key, arrival] of this.arrivals) if (arrival <= now) this.arrivals.delete(key);
  }
}
