import type BetterSqlite3 from "better-sqlite3";
import type { JsonValue, PendingKind } from "../../protocols/types.js";
import { auditLimit } from "../shared.js";
import type { AuditEvent, AuditPage, AuditQuery } from "../types.js";

/** How often subscribers look for events written by other processes. */
export const AUDIT_POLL_INTERVAL_MS = 200;
const PUMP_BATCH = 500;

/** An audit row as read: the event's fields, with the id as stored and the detail still JSON text. */
type AuditRow = Omit<AuditEvent, "id" | "kind" | "detail"> & { id: number; kind: PendingKind | null; detail: string };

/** An event to append: everything but the id, which the table assigns. */
export type NewAuditEvent = Omit<AuditEvent, "id">;

const COLUMNS = "id, at, type, channel_type AS channelType, channel_id AS channelId, actor, kind, detail";

function toEvent(row: AuditRow): AuditEvent {
  return {
    id: String(row.id),
    at: row.at,
    type: row.type,
    channelType: row.channelType,
    channelId: row.channelId,
    actor: row.actor,
    ...(row.kind === null ? {} : { kind: row.kind }),
    detail: JSON.parse(row.detail) as Record<string, JsonValue>,
  };
}

/**
 * The audit table: append inside the caller's transaction, page through it, and follow it. Subscribers see events
 * from this process right after the writing call commits, and events from other processes by polling the table
 * (only while someone listens, on an unref'ed timer so it never keeps the process alive).
 */
export class SqliteAuditLog {
  private readonly insert: BetterSqlite3.Statement;
  private readonly pageStatement: BetterSqlite3.Statement;
  private readonly since: BetterSqlite3.Statement;
  private readonly maxId: BetterSqlite3.Statement;
  private readonly listeners = new Set<(event: AuditEvent) => void>();
  private cursor = 0;
  private pumping = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(db: BetterSqlite3.Database) {
    this.insert = db.prepare(
      "INSERT INTO audit (at, type, channel_type, channel_id, actor, kind, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.pageStatement = db.prepare(
      `SELECT ${COLUMNS} FROM audit
       WHERE id > @after AND (@type IS NULL OR type = @type) AND (@channelType IS NULL OR channel_type = @channelType)
       ORDER BY id LIMIT @limit`,
    );
    this.since = db.prepare(`SELECT ${COLUMNS} FROM audit WHERE id > ? ORDER BY id LIMIT ${PUMP_BATCH}`);
    this.maxId = db.prepare("SELECT coalesce(max(id), 0) FROM audit").pluck();
  }

  /** Appends one event inside the caller's transaction; returns its id, which orders everything it created. */
  append(event: NewAuditEvent): number {
    return Number(this.insert.run(
      event.at,
      event.type,
      event.channelType,
      event.channelId,
      event.actor,
      event.kind ?? null,
      JSON.stringify(event.detail),
    ).lastInsertRowid);
  }

  page(query?: AuditQuery): AuditPage {
    const limit = auditLimit(query);
    const after = query?.after === undefined ? 0 : Number(query.after);
    if (Number.isNaN(after)) return { events: [], next: null };
    const rows = this.pageStatement.all({
      after,
      type: query?.type || null,
      channelType: query?.channelType || null,
      limit: limit + 1,
    }) as AuditRow[];
    const events = rows.slice(0, limit).map(toEvent);
    const last = events.at(-1);
    return { events, next: rows.length > limit && last ? last.id : null };
  }

  subscribe(listener: (event: AuditEvent) => void): () => void {
    if (this.listeners.size === 0) {
      this.cursor = this.maxId.get() as number;
      this.timer = setInterval(() => this.pollQuietly(), AUDIT_POLL_INTERVAL_MS);
      this.timer.unref();
    } else {
      this.pump();
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /**
   * Hands every event newer than the cursor to the listeners (a fresh copy each), in id order, once. A listener that
   * writes to the store meanwhile does not re-enter: its events are picked up by the loop already running.
   */
  pump(): void {
    if (this.listeners.size === 0 || this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const rows = this.since.all(this.cursor) as AuditRow[];
        if (rows.length === 0) return;
        for (const row of rows) {
          this.cursor = row.id;
          const event = toEvent(row);
          for (const listener of [...this.listeners]) deliver(listener, structuredClone(event));
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private pollQuietly(): void {
    try {
      this.pump();
    } catch {
      // Locked or briefly unreadable: the next tick catches up from the same cursor.
    }
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function deliver(listener: (event: AuditEvent) => void, event: AuditEvent): void {
  try {
    listener(event);
  } catch (error) {
    process.emitWarning(`a gatehouse audit subscriber threw: ${(error as Error)?.message ?? String(error)}`);
  }
}
