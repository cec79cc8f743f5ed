import { budgetTiming, type BudgetStore, type RateLimit } from "../budget.js";
import type { Clock } from "../types.js";
import type { RedisConnection } from "./connection.js";
import { script } from "./scripts.js";

/** KEYS[1] the budget key; ARGV now, interval, tolerance (ms). The key expires once its budget would be full again. */
const BUDGET_TAKE = script(
  "budget-take",
  `local now = tonumber(ARGV[1])
local arrival = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if arrival < now then arrival = now end
if arrival - now > tonumber(ARGV[3]) then return 0 end
local nextArrival = arrival + tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.3f', nextArrival), 'PX', math.ceil(nextArrival - now) + 1000)
return 1
`,
);

const BUDGET_GIVE_BACK = script(
  "budget-give-back",
  `local now = tonumber(ARGV[1])
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local nextArrival = tonumber(stored) - tonumber(ARGV[2])
if nextArrival <= now then redis.call('DEL', KEYS[1]) return 1 end
redis.call('SET', KEYS[1], string.format('%.3f', nextArrival), 'PX', math.ceil(nextArrival - now) + 1000)
return 1
`,
);

/** Budgets in Redis under `<prefix>budget:<key>`: each take or give-back is one script, atomic across instances. */
export class RedisBudgetStore implements BudgetStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly prefix: string,
    private readonly now: Clock = Date.now,
  ) {}

  async take(key: string, limit: RateLimit): Promise<boolean> {
    const { intervalMs, toleranceMs } = budgetTiming(key, limit);
    const args = [String(this.now()), String(intervalMs), String(toleranceMs)];
    const reply = await this.conn.run(() => this.conn.eval(BUDGET_TAKE, [this.keyOf(key)], args));
    return Number(reply) === 1;
  }

  async giveBack(key: string, limit: RateLimit): Promise<void> {
    const { intervalMs } = budgetTiming(key, limit);
    await this.conn.run(() =>
      this.conn.eval(BUDGET_GIVE_BACK, [this.keyOf(key)], [String(this.now()), String(intervalMs)]),
    );
  }

  private keyOf(key: string): string {
    return `${this.prefix}budget:${key}`;
  }
}
