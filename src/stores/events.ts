import type { JsonValue, PendingKind } from "../protocols/types.js";

/** The stores' clock: milliseconds since the epoch, injectable so expiry is tested without sleeping. */
export type Clock = () => number;

export type AuditEventType =
  | "requested"
  | "invite-created"
  | "approved"
  /** An owner-claim code was redeemed (channelType `owner.<channel>`, channelId the new owner; src/pairing/owner-scope.ts). */
  | "owner-claimed"
  | "denied"
  | "revoked"
  | "expired"
  | "redeem-failed"
  | "locked-out"
  /** An API token was deleted (channelType "token", channelId its id): sockets opened with it close on every instance. */
  | "token-revoked"
  /** Approval requests of agents (channelType "approval", channelId the request id; see approvals.ts). */
  | "approval-requested"
  | "approval-approved"
  | "approval-denied"
  | "approval-expired"
  /** A console session ended (channelType "console", channelId its ref, a hash): sockets opened from it close everywhere. */
  | "console-session-ended"
  /** Something a channel wants the owner to see (detail: message and fields; never a code, token or message text). */
  | "channel-notice";

/** The audit events a gateway announces itself (AnnouncementStore), for every instance to hear through the feed. */
export type AnnouncedEventType = Extract<AuditEventType, "console-session-ended" | "channel-notice">;

/** One decision in the store's append-only audit log; never holds a code, token or secret. */
export interface AuditEvent {
  /** Opaque, increasing within one store; pass as `after` to page. */
  id: string;
  at: number;
  type: AuditEventType;
  channelType: string;
  /** The sender concerned, "" when unknown (a failed invite redemption by nobody in particular). */
  channelId: string;
  /** Who did it: an approving owner, a redeemer, or "system". */
  actor: string;
  kind?: PendingKind;
  detail: Record<string, JsonValue>;
}

/**
 * A subscriber's feed skipped events it can no longer deliver: they were trimmed from the log (its retention) before
 * the subscriber read them. Whoever acts on events must re-read what it cares about from the store (who is paired,
 * which tokens exist, what is pending) instead of trusting the events it saw; later events arrive as usual.
 */
export interface AuditResync {
  /** How many events were trimmed unread (at least 1). */
  missed: number;
  /** The id of the last event delivered before the gap, or null when none had been. */
  after: string | null;
}
