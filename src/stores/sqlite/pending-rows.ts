import type { NewPendingEntry } from "../shared.js";

/** A pending row as read back: the inserted entry without its code (never stored), plus order and failure count. */
export type PendingRow = Omit<NewPendingEntry, "code"> & { seq: number; failures: number };

export const PENDING_COLUMNS = `hash, seq, kind, channel_type AS channelType, channel_id AS channelId, user_name AS userName,
  first_message AS firstMessage, display, created_at AS createdAt, expires_at AS expiresAt, failures`;
