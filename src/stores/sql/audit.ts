import type { JsonValue, PendingKind } from "../../protocols/types.js";
import { runWithDeadline } from "../deadline.js";
import { auditLimit } from "../shared.js";
import type { AuditEvent, AuditPage, AuditQuery } from "../types.js";
import type { SqlDriver, SqlExecutor } from "./driver.js";

/** How often subscribers look for events written by other processes. */
export const AUDIT_POLL_INTERVAL_MS = 200;
const BATCH = 500;

interface AuditRow {
  id: number | string;
  at: number | string;
  type: AuditEvent["type"];
  channel_type: string;
  channel_id: string;
  actor: string;
  kind: PendingKind | null;
  detail: string;
}

function toEvent(row: AuditRow): AuditEvent {
  const event: AuditEvent = {
    id: String(row.id),
    at: Number(row.at),
    type: row.type,
    channelType: row.channel_type,
    channelId: row.channel_id,
    actor: row.actor,
    detail: JSON.parse(row.detail) as Record<string, JsonValue>,
  };
  if (row.kind !== null) event.kind = row.kind;
  return event;
}

/**
 * The audit table of an SQL store: appended only inside write transactions, which hold the store-wide write lock until
 * they commit, so ids are taken in commit order and a reader paging `id > last` never skips an event that commits
 * later. Paged, and followed: this process's events right after each write, other processes' by polling while anyone
 * listens (on an unref'ed timer), sooner where the driver is woken (PostgreSQL's LISTEN).
 */
export class SqlAuditLog {
  private readonly listeners = new Set<(event: AuditEvent) => void>();
  private cursor: number | null = null;
  private pumping: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private listening: { ready: Promise<void>; stop(): void } | undefined;
  private readonly select: string;
  private readonly insert: string;

  constructor(private readonly driver: SqlDriver) {
    const table = driver.dialect.table("audit");
    this.select = `SELECT id, at, type, channel_type, channel_id, actor, kind, detail FROM ${table}`;
    this.insert = `INSERT INTO ${table} (at, type, channel_type, channel_id, actor, kind, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`;
  }

  /** Appends one event inside the caller's write transaction (one statement where the driver announces nothing). */
  append(tx: SqlExecutor, event: Omit<AuditEvent, "id">): Promise<unknown> {
    const inserted = tx.execute(this.insert, [
      event.at,
      event.type,
      event.channelType,
      event.channelId,
      event.actor,
      event.kind ?? null,
      JSON.stringify(event.detail),
    ]);
    const { announce } = this.driver;
    return announce ? inserted.then(() => announce.call(this.driver, tx)) : inserted;
  }

  async page(query?: AuditQuery): Promise<AuditPage> {
    const limit = auditLimit(query);
    const after = query?.after === undefined ? 0 : Math.floor(Number(query.after));
    if (!Number.isSafeInteger(after)) return { events: [], next: null };
    // Like the reference: an empty filter is no filter. No stored event holds U+0000 (nor can PostgreSQL's text).
    const filters = [
      ["type", query?.type],
      ["channel_type", query?.channelType],
    ].filter((f): f is [string, string] => Boolean(f[1]));
    if (filters.some(([, value]) => value.includes("\u0000"))) return { events: [], next: null };
    const rows = await this.driver.all<AuditRow>(
      `${this.select} WHERE id > ?${filters.map(([column]) => ` AND ${column} = ?`).join("")} ORDER BY id LIMIT ${limit + 1}`,
      [Math.max(0, after), ...filters.map(([, value]) => value)],
    );
    const events = rows.slice(0, limit).map(toEvent);
    const last = events.at(-1);
    return { events, next: rows.length > limit && last ? last.id : null };
  }

  subscribe(listener: (event: AuditEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.cursor = null;
      void this.pump();
      this.timer = setInterval(() => void this.pump(), AUDIT_POLL_INTERVAL_MS);
      this.timer.unref();
      // Pushed wake-ups (PostgreSQL's NOTIFY) only make followers quicker: the cursor and the poll stay the truth.
      this.listening = this.driver.listen?.(() => void this.pump());
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.close();
    };
  }

  /**
   * Resolves once a subscription that is starting knows where the log ends (so a write after subscribe() is seen)
   * and has tried to listen; null when nobody listens, so there is nothing to wait for.
   */
  ready(): Promise<void> | null {
    // Nobody listens (then nothing is listening either): nothing to wait for, and no promise to make.
    if (this.listeners.size === 0 && !this.listening) return null;
    return this.whenReady();
  }

  private async whenReady(): Promise<void> {
    if (this.cursor === null && this.listeners.size > 0) await this.pump();
    await this.listening?.ready;
  }

  /** Hands events newer than the cursor to the listeners, in id order, once; failures wait for the next tick. */
  pump(): Promise<void> {
    if (this.listeners.size === 0) return Promise.resolve();
    this.pumping ??= runWithDeadline(this.driver.backend, this.driver.timeoutMs, () => this.deliver())
      .catch(() => undefined)
      .finally(() => {
        this.pumping = null;
      });
    return this.pumping;
  }

  close(): void {
    this.listeners.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listening?.stop();
    this.listening = undefined;
  }

  private async deliver(): Promise<void> {
    if (this.cursor === null) {
      const row = await this.driver.get<{ id: number | string | null }>(
        `SELECT max(id) AS id FROM ${this.driver.dialect.table("audit")}`,
      );
      this.cursor = Number(row?.id ?? 0);
      return;
    }
    for (;;) {
      const rows: AuditRow[] = await this.driver.all<AuditRow>(
        `${this.select} WHERE id > ? ORDER BY id LIMIT ${BATCH}`,
        [this.cursor],
      );
      if (rows.length === 0) return;
      for (const row of rows) {
        this.cursor = Number(row.id);
        const event = toEvent(row);
        for (const listener of [...this.listeners]) {
          try {
            listener(structuredClone(event));
          } catch {
            // A listener's failure is its own; the others still get the event.
          }
        }
      }
    }
  }
}
