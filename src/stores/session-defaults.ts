/** A session not used for this long is forgotten. */
export const DEFAULT_SESSION_IDLE_TTL_MS = 24 * 60 * 60_000;

/** The longest a lookup goes without writing last-seen, whatever the idle TTL. */
export const MAX_SESSION_REFRESH_INTERVAL_MS = 60_000;

/**
 * How stale last-seen may be before a lookup writes it again: min(60 s, idle TTL / 10), whole milliseconds. Below this a lookup is a pure
 * read, so a busy session costs one write a minute instead of one per message; the price is that a session expires
 * between `idleTtlMs - interval` and `idleTtlMs` after its last lookup, never later.
 */
export function sessionRefreshIntervalMs(idleTtlMs: number): number {
  return Math.floor(Math.min(MAX_SESSION_REFRESH_INTERVAL_MS, idleTtlMs / 10));
}

/** True when a live session last seen at `lastSeen` should have last-seen written at `now` (a clock moved back counts). */
export function needsRefresh(lastSeen: number, now: number, refreshIntervalMs: number): boolean {
  return now - lastSeen >= refreshIntervalMs || now < lastSeen;
}
