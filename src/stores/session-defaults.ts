/** A session not used for this long is forgotten. */
export const DEFAULT_SESSION_IDLE_TTL_MS = 24 * 60 * 60_000;
