import type { JsonValue, PendingKind } from "../../protocols/types.js";
import type { AuditEvent, AuditEventType } from "../types.js";
import type { ListenConnection, PostgresDatabase } from "./database.js";

export interface AuditRow {
  id: string;
  at: string;
  type: AuditEventType;
  channel_type: string;
  channel_id: string;
  actor: string;
  kind: PendingKind | null;
  detail: Record<string, JsonValue>;
}

/**
 * Reads audit rows as `a`. Filter and order by `a.id` (the bigint), never a bare `id`: in ORDER BY that would be the
 * text output column, and "10" sorts before "2".
 */
export function selectAudit(db: PostgresDatabase): string {
  return `SELECT a.id::text AS id, a.at, a.type, a.channel_type, a.channel_id, a.actor, a.kind, a.detail FROM ${db.table("audit")} a`;
}

export function toAuditEvent(row: AuditRow): AuditEvent {
  const event: AuditEvent = {
    id: row.id,
    at: Number(row.at),
    type: row.type,
    channelType: row.channel_type,
    channelId: row.channel_id,
    actor: row.actor,
    detail: row.detail,
  };
  if (row.kind !== null) event.kind = row.kind;
  return event;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;
/** Ids remembered to drop duplicates between a catch-up read and late notifications. */
const REMEMBERED_IDS = 4096;
/** At most this many events are replayed after a reconnect. */
const CATCH_UP_LIMIT = 1000;

type Listener = (event: AuditEvent) => void;

/**
 * Audit events from every process sharing the schema, by LISTEN on "<schema>.audit" (the payload is the event id; the
 * row is then read). One dedicated connection while anyone is subscribed; when it drops it is re-established with
 * backoff and the events committed meanwhile are replayed from the table. Released by close().
 */
export class AuditFeed {
  private readonly listeners = new Set<Listener>();
  private connection: ListenConnection | null = null;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay = RECONNECT_MIN_MS;
  /** Delivery is sequential so listeners see events in notification order. */
  private delivery: Promise<void> = Promise.resolve();
  private highest = 0n;
  private listenedBefore = false;
  private readonly seen = new Set<string>();
  private closed = false;

  constructor(private readonly db: PostgresDatabase) {}

  subscribe(listener: Listener): () => void {
    if (this.closed) return () => undefined;
    const wrapped: Listener = (event) => listener(structuredClone(event));
    this.listeners.add(wrapped);
    if (!this.connection && !this.connecting) this.connect();
    return () => {
      this.listeners.delete(wrapped);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Resolves once a subscription that is starting is listening (or has failed), so a write after subscribe() is seen. */
  async ready(): Promise<void> {
    await this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.connecting;
    this.stop();
    await this.delivery;
  }

  private connect(): void {
    const attempt: Promise<void> = this.listen()
      .then(
        () => {
          this.retryDelay = RECONNECT_MIN_MS;
        },
        () => this.scheduleReconnect(),
      )
      .finally(() => {
        if (this.connecting === attempt) this.connecting = null;
      });
    this.connecting = attempt;
  }

  private async listen(): Promise<void> {
    const connection = await this.db.call(() => this.db.connectListener());
    if (this.closed || this.listeners.size === 0) {
      connection.release();
      return;
    }
    const { client } = connection;
    const dropped = (): void => this.dropped(connection);
    client.on("error", dropped);
    client.on("end", dropped);
    client.on("notification", (message) => {
      if (message.channel === this.db.channel && message.payload) this.enqueue(() => this.deliverById(message.payload as string));
    });
    try {
      await this.db.call(() => client.query(`LISTEN "${this.db.channel}"`));
      const resuming = this.listenedBefore;
      if (!resuming) {
        const max = await this.db.call(() =>
          client.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM ${this.db.table("audit")}`),
        );
        const current = BigInt(max.rows[0]?.id ?? "0");
        if (current > this.highest) this.highest = current;
      }
      if (this.closed || this.listeners.size === 0) {
        // Everyone left (or the store closed) while we were connecting.
        client.off("end", dropped);
        connection.release();
        return;
      }
      this.connection = connection;
      this.listenedBefore = true;
      if (resuming) this.enqueue(() => this.catchUp());
    } catch (error) {
      client.off("end", dropped);
      connection.release();
      throw error;
    }
  }

  private dropped(connection: ListenConnection): void {
    if (this.connection !== connection) return;
    this.connection = null;
    connection.release();
    if (!this.closed && this.listeners.size > 0) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.listeners.size === 0 || this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, RECONNECT_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.connection && !this.connecting) this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const connection = this.connection;
    this.connection = null;
    // The connection held LISTEN: it is closed, never handed back to a pool still listening.
    connection?.release();
  }

  private enqueue(task: () => Promise<void>): void {
    this.delivery = this.delivery.then(task).catch(() => undefined);
  }

  private async deliverById(id: string): Promise<void> {
    if (this.seen.has(id)) return;
    const rows = await this.db.call(() =>
      this.db.query<AuditRow>(
        `${selectAudit(this.db)} WHERE a.id = $1`,
        [id],
        true,
      ),
    );
    const row = rows.rows[0];
    if (row) this.emit(toAuditEvent(row));
  }

  /** After a reconnect: the events committed while we were not listening. */
  private async catchUp(): Promise<void> {
    const rows = await this.db.call(() =>
      this.db.query<AuditRow>(
        `${selectAudit(this.db)} WHERE a.id > $1 ORDER BY a.id LIMIT ${CATCH_UP_LIMIT}`,
        [this.highest.toString()],
      ),
    );
    for (const row of rows.rows) if (!this.seen.has(row.id)) this.emit(toAuditEvent(row));
  }

  private emit(event: AuditEvent): void {
    this.remember(event.id);
    if (this.closed) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the others still get the event and the feed keeps running.
      }
    }
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > REMEMBERED_IDS) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    const value = BigInt(id);
    if (value > this.highest) this.highest = value;
  }
}
