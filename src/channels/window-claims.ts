import { createHash } from "node:crypto";
import type { GatewayContext, GatewayLogger } from "../core/context.js";
import { withDeadline } from "../core/deadline.js";
import { MAX_BUDGET_KEY_LENGTH, type BudgetStore, type RateLimit } from "../stores/budget.js";
import { MemoryBudgetStore } from "../stores/memory/budgets.js";
import { errorName } from "./redact.js";

/**
 * "At most once per key in a window" (one owner card per sender an hour, one reminder a minute), decided by the store's
 * atomic budgets, so every gateway instance on the store shares one answer: a budget of one unit refilled once a
 * window. `release` hands the unit back (the sender's request was decided, so the next one may be announced again).
 */
export interface WindowClaims {
  /** True when `key` was not claimed inside the window (and now is); false for a repeat. Throws when the store cannot say. */
  claim(key: string): Promise<boolean>;
  /** Makes `key` claimable again now. */
  release(key: string): Promise<void>;
}

/** Room left for the caller's key after the namespace; longer keys are hashed. */
const MAX_PLAIN_KEY = MAX_BUDGET_KEY_LENGTH - 100;

/**
 * Window claims named `<purpose>:<channelType>:<key>` in the context's budgets (every built-in store has them; a gateway
 * built on injected stores without budgets keeps them in this process, as `createGateway` does).
 */
export function windowClaims(
  ctx: GatewayContext,
  purpose: string,
  channelType: string,
  windowMs: number,
  deadlineMs: number,
  now: () => number,
): WindowClaims {
  const budgets: BudgetStore = ctx.budgets ?? new MemoryBudgetStore(now);
  const limit: RateLimit = { capacity: 1, refillPerSecond: 1000 / windowMs };
  const name = (key: string): string => {
    const plain = key.length <= MAX_PLAIN_KEY ? key : `#${createHash("sha256").update(key, "utf8").digest("hex")}`;
    return `${purpose}:${channelType}:${plain}`;
  };
  return {
    claim: (key) => withDeadline(`budgets.take(${purpose})`, () => budgets.take(name(key), limit), deadlineMs),
    release: (key) =>
      withDeadline(`budgets.giveBack(${purpose})`, () => budgets.giveBack(name(key), limit), deadlineMs),
  };
}

/** Claims that are never granted: what a router holds before it is started. */
export const NO_CLAIMS: WindowClaims = { claim: async () => false, release: async () => {} };

/**
 * The router's view of window claims: a store that cannot answer counts as "already claimed" (a limit that cannot be
 * checked sends nothing, fail closed), and a release that fails only leaves the window to run out; both say so in the log.
 */
export function failClosed(claims: WindowClaims, logger: GatewayLogger, channelType: string): WindowClaims {
  return {
    claim: async (key) => {
      try {
        return await claims.claim(key);
      } catch (error) {
        logger.warn("a send limit could not be checked in the store: nothing sent", {
          channelType,
          error: errorName(error),
        });
        return false;
      }
    },
    release: (key) =>
      claims.release(key).catch((error: unknown) => {
        logger.warn("a send limit could not be reset in the store", { channelType, error: errorName(error) });
      }),
  };
}
