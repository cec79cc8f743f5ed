import { parseConversation, type ConversationRecord, type ConversationStore } from "../conversations.js";

/** Conversations in this process; expired ones are dropped as they are met (and swept when the map grows). */
export class MemoryConversationStore implements ConversationStore {
  private readonly records = new Map<string, { text: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(sessionId: string): Promise<ConversationRecord | null> {
    const entry = this.records.get(sessionId);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      this.records.delete(sessionId);
      return null;
    }
    // Stored as text so callers never share (and mutate) the stored object.
    return parseConversation(entry.text);
  }

  async put(sessionId: string, record: ConversationRecord, ttlMs: number): Promise<void> {
    const now = this.now();
    this.records.set(sessionId, { text: JSON.stringify(record), expiresAt: now + ttlMs });
    if (this.records.size > 10_000) for (const [id, e] of this.records) if (e.expiresAt <= now) this.records.delete(id);
  }

  async delete(sessionId: string): Promise<void> {
    this.records.delete(sessionId);
  }
}
