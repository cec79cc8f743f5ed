import type { GatewayContext } from "../core/context.js";
import { withDeadline } from "../core/deadline.js";
import { RecentKeys } from "./serial.js";

/** Answers "is this the first time any instance sees this key (within ttlMs)?"; throws when the store cannot say. */
export type FirstSighting = (key: string, ttlMs: number) => Promise<boolean>;

/**
 * A channel's first-sighting check, namespaced by channel type. With the store's seen-once keys (every built-in store)
 * the answer is shared by every gateway instance; a custom store without them falls back to this process only, and the
 * start log says so. Store calls have the router's deadline; a failure is thrown so the caller can fail closed.
 */
export function firstSightingFor(
  ctx: GatewayContext,
  channelType: string,
  deadlineMs: number,
  now: () => number,
): FirstSighting {
  const seen = ctx.seen;
  if (seen) {
    return (key, ttlMs) =>
      withDeadline("seen.firstSighting", () => seen.firstSighting(`${channelType}:${key}`, ttlMs), deadlineMs);
  }
  ctx.logger.warn(
    "the pairing store has no seen-once keys: redelivered platform events are de-duplicated per process only",
    { channelType },
  );
  const local = new Map<number, RecentKeys>();
  return async (key, ttlMs) => {
    let recent = local.get(ttlMs);
    if (!recent) local.set(ttlMs, (recent = new RecentKeys(ttlMs)));
    return recent.claim(key, now());
  };
}
