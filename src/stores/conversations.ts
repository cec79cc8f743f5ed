/** One message of a conversation as it is remembered (the user's text or the agent's reply). */
export interface ConversationMessage {
  role: "user" | "assistant";
  content: string;
}

/** A session's conversation: who it belongs to and its messages, oldest first. */
export interface ConversationRecord {
  /** The principal and channel the session was bound to when the conversation began; nobody else may read it. */
  owner: { userId: string; channelType: string };
  messages: ConversationMessage[];
}

/**
 * Where conversations are kept, one record per session id, each expiring after its idle TTL unless it is written
 * again. A backend only stores and expires records; limits and who may read them are decided once, in
 * src/conversation/memory.ts. Every built-in backend provides one (`Stores.conversations`).
 */
export interface ConversationStore {
  /** The session's record, or null when there is none or it has been idle past its TTL. */
  get(sessionId: string): Promise<ConversationRecord | null>;
  /** Replaces the session's record; it expires `ttlMs` from now unless written again. */
  put(sessionId: string, record: ConversationRecord, ttlMs: number): Promise<void>;
  delete(sessionId: string): Promise<void>;
}

/** Records are stored as JSON text; anything unreadable is treated as no conversation rather than trusted. */
export function parseConversation(text: string | null | undefined): ConversationRecord | null {
  if (typeof text !== "string") return null;
  try {
    const value = JSON.parse(text) as ConversationRecord;
    if (!value || typeof value.owner?.userId !== "string" || typeof value.owner.channelType !== "string") return null;
    if (!Array.isArray(value.messages)) return null;
    const messages = value.messages.filter(
      (m) => (m.role === "user" || m.role === "assistant") && typeof m.content === "string",
    );
    return { owner: { userId: value.owner.userId, channelType: value.owner.channelType }, messages };
  } catch {
    return null;
  }
}
