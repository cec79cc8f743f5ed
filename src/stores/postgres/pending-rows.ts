import type { PendingKind } from "../../protocols/types.js";
import type { NewPendingEntry } from "../shared.js";

/** A pending row as PostgreSQL returns it: bigints as text, the first message as bytes. */
export interface PendingRow {
  hash: string;
  kind: PendingKind;
  channel_type: string;
  channel_id: string;
  user_name: string;
  first_message: Buffer;
  display: string;
  created_at: string;
  expires_at: string;
  failures: number;
}

/** A live pending row as the store reads it back: the entry it inserted, without the code (never stored). */
export type PendingEntry = Omit<NewPendingEntry, "code">;

export const PENDING_COLUMNS = "hash, kind, channel_type, channel_id, user_name, first_message, display, created_at, expires_at, failures";

export const toEntry = (row: PendingRow): PendingEntry => ({
  hash: row.hash,
  kind: row.kind,
  channelType: row.channel_type,
  channelId: row.channel_id,
  userName: row.user_name,
  firstMessage: row.first_message.toString("utf8"),
  display: row.display,
  createdAt: Number(row.created_at),
  expiresAt: Number(row.expires_at),
});
