import { withDeadline } from "../core/deadline.js";
import type { ConversationMessage, ConversationRecord, ConversationStore } from "../stores/conversations.js";

export interface ConversationLimits {
  /** Turns (a message and its reply) kept per session; older ones are forgotten first. */
  maxTurns: number;
  /** Characters kept per session, all messages together; older turns are forgotten first. */
  maxChars: number;
  /** A conversation nobody wrote to for this long is forgotten, milliseconds. */
  idleTtlMs: number;
}

export const DEFAULT_CONVERSATION_LIMITS: ConversationLimits = {
  maxTurns: 20,
  maxChars: 16_000,
  idleTtlMs: 24 * 60 * 60_000,
};

/** Who is talking: the session's principal on the channel the message came from. */
export interface ConversationOwner {
  userId: string;
  channelType: string;
}

/**
 * A session's conversation memory, over any ConversationStore: the rules live here once. A record is read back only
 * by the principal and channel it was started by (a session bound to someone else starts afresh); it keeps at most
 * `maxTurns` turns and `maxChars` characters, oldest dropped first, and is forgotten after `idleTtlMs` without a turn.
 * Every store call has a deadline; a failure is thrown (the caller fails closed), never read as an empty history.
 */
export class ConversationMemory {
  readonly limits: ConversationLimits;

  constructor(
    private readonly store: ConversationStore,
    limits: Partial<ConversationLimits> = {},
    private readonly deadlineMs = 2_000,
  ) {
    this.limits = resolveConversationLimits(limits);
  }

  /** The earlier messages of this session, oldest first; none when it belongs to someone else. */
  async history(sessionId: string, owner: ConversationOwner): Promise<ConversationMessage[]> {
    const record = await withDeadline("conversations.get", () => this.store.get(sessionId), this.deadlineMs);
    return record && sameOwner(record, owner) ? record.messages : [];
  }

  /** Adds one turn (the message and the reply) and trims the conversation to the limits. */
  async remember(sessionId: string, owner: ConversationOwner, message: string, reply: string): Promise<void> {
    const earlier = await this.history(sessionId, owner);
    const messages = trim(
      [...earlier, { role: "user", content: message }, { role: "assistant", content: reply }],
      this.limits,
    );
    const record: ConversationRecord = { owner: { userId: owner.userId, channelType: owner.channelType }, messages };
    await withDeadline(
      "conversations.put",
      () => this.store.put(sessionId, record, this.limits.idleTtlMs),
      this.deadlineMs,
    );
  }

  /** Forgets the session's conversation (`/new`). */
  async forget(sessionId: string): Promise<void> {
    await withDeadline("conversations.delete", () => this.store.delete(sessionId), this.deadlineMs);
  }
}

function sameOwner(record: ConversationRecord, owner: ConversationOwner): boolean {
  return record.owner.userId === owner.userId && record.owner.channelType === owner.channelType;
}

/** The newest whole turns that fit both limits (a turn is never cut in half, so the model never sees half an exchange). */
function trim(messages: ConversationMessage[], limits: ConversationLimits): ConversationMessage[] {
  const kept: ConversationMessage[] = [];
  let chars = 0;
  let turns = 0;
  for (let end = messages.length; end >= 2 && turns < limits.maxTurns; end -= 2) {
    const turn = messages.slice(end - 2, end);
    const size = turn.reduce((sum, m) => sum + m.content.length, 0);
    if (chars + size > limits.maxChars) break;
    kept.unshift(...turn);
    chars += size;
    turns++;
  }
  return kept;
}

/** The defaults with the given limits over them; a limit that is not a positive integer is a TypeError naming it. */
export function resolveConversationLimits(given: Partial<ConversationLimits>): ConversationLimits {
  const limits = { ...DEFAULT_CONVERSATION_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new TypeError(`conversation ${name} must be a positive integer (got ${String(value)})`);
  }
  return limits;
}
