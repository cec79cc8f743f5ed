import type { JsonValue, PendingKind } from "../../protocols/types.js";
import { StoreUnavailableError } from "../../pairing/errors.js";
import { auditLimit, auditMatches } from "../shared.js";
import type { AuditEvent, AuditEventType, AuditPage, AuditQuery } from "../types.js";
import { withDeadline, type RedisClientLike, type RedisConnection } from "./connection.js";

/**
 * The audit log is one Redis stream (XADD from the Lua scripts). Event ids are stream ids, so `audit()` pages with
 * XRANGE from an exclusive start, and every instance learns of every decision by tailing the stream with XREAD.
 */

const STREAM_ID = /^\d+(-\d+)?$/;
const BLOCK_MS = 5000;
const RETRY_MS = 250;
const READ_COUNT = 200;
/** Events kept for a subscriber whose starting point is not known yet (Redis away at subscribe time). */
const MAX_BUFFERED = 1000;

type StreamEntry = [id: string, fields: string[]];

function toEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const item of reply) {
    if (Array.isArray(item) && typeof item[0] === "string" && Array.isArray(item[1])) {
      entries.push([item[0], (item[1] as unknown[]).map(String)]);
    } else if (item && typeof item === "object" && "id" in item && "message" in item) {
      // a client with a type mapping that turns entries into { id, message }
      const { id, message } = item as { id: string; message: Record<string, string> };
      entries.push([id, Object.entries(message).flat()]);
    }
  }
  return entries;
}

/** XREAD's reply for one stream: RESP2 `[[key, entries]]`, RESP3 a map `{ key: entries }`. */
function xreadEntries(reply: unknown): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    const first = reply[0] as unknown;
    if (Array.isArray(first)) return toEntries(first[1]);
    if (first && typeof first === "object" && "messages" in first) return toEntries((first as { messages: unknown }).messages);
    return [];
  }
  if (reply instanceof Map) return toEntries([...reply.values()][0]);
  if (typeof reply === "object") return toEntries(Object.values(reply)[0]);
  return [];
}

export function toAuditEvent([id, fields]: StreamEntry): AuditEvent {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] as string] = fields[i + 1] as string;
  const event: AuditEvent = {
    id,
    at: Number(record.at),
    type: record.type as AuditEventType,
    channelType: record.channelType ?? "",
    channelId: record.channelId ?? "",
    actor: record.actor ?? "",
    detail: parseDetail(record.detail),
  };
  if (record.kind) event.kind = record.kind as PendingKind;
  return event;
}

function parseDetail(text: string | undefined): Record<string, JsonValue> {
  if (!text) return {};
  const value = JSON.parse(text) as unknown;
  // cjson encodes an empty table as {} and never as [], but be lenient
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, JsonValue>) : {};
}

/** Orders stream ids ("ms-seq"). */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am - bm || as - bs;
}

/** One page of the audit log, filtered like the memory store, from just after the `after` cursor. */
export async function readAuditPage(conn: RedisConnection, stream: string, query: AuditQuery | undefined): Promise<AuditPage> {
  const limit = auditLimit(query);
  const after = query?.after;
  if (after !== undefined && (typeof after !== "string" || !STREAM_ID.test(after))) return { events: [], next: null };
  let start = after === undefined ? "-" : `(${after}`;
  const filtered = query?.type !== undefined || query?.channelType !== undefined;
  const batch = filtered ? Math.max(READ_COUNT, limit + 1) : limit + 1;
  const events: AuditEvent[] = [];
  for (;;) {
    const entries = toEntries(await conn.command(["XRANGE", stream, start, "+", "COUNT", String(batch)]));
    for (const entry of entries) {
      const event = toAuditEvent(entry);
      if (!auditMatches(event, query)) continue;
      if (events.length === limit) return { events, next: events[limit - 1]?.id ?? null };
      events.push(event);
    }
    const last = entries.at(-1);
    if (entries.length < batch || !last) return { events, next: null };
    start = `(${last[0]}`;
  }
}

interface Subscriber {
  listener: (event: AuditEvent) => void;
  /** Stream id of the last event before this subscription; null until known. */
  after: string | null;
  buffer: AuditEvent[];
}

/**
 * Tails the audit stream on a duplicated connection (blocking XREAD) and hands every new event to the subscribers.
 * Each subscriber's starting point is the stream's last id, read on the store's own connection at subscribe time, so
 * every decision this store makes after `subscribe()` is delivered, and nothing from before it.
 */
export class AuditFeed {
  private readonly subscribers = new Set<Subscriber>();
  private reader: RedisClientLike | null = null;
  private reading = false;
  private closed = false;

  constructor(
    private readonly conn: RedisConnection,
    private readonly stream: string,
  ) {}

  subscribe(listener: (event: AuditEvent) => void): () => void {
    if (this.closed) return () => {};
    const subscriber: Subscriber = { listener, after: null, buffer: [] };
    this.subscribers.add(subscriber);
    void this.locate(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    this.dropReader();
  }

  private dropReader(): void {
    const reader = this.reader;
    this.reader = null;
    if (reader?.isOpen) reader.destroy();
  }

  /** Finds where the subscriber starts (retrying while Redis is away), then makes sure the reader runs. */
  private async locate(subscriber: Subscriber): Promise<void> {
    while (!this.closed && this.subscribers.has(subscriber)) {
      try {
        const reply = await this.conn.command(["XREVRANGE", this.stream, "+", "-", "COUNT", "1"]);
        const after = toEntries(reply)[0]?.[0] ?? "0-0";
        subscriber.after = after;
        const buffered = subscriber.buffer.splice(0);
        for (const event of buffered) this.deliver(subscriber, event);
        if (!this.reading) void this.read(after);
        return;
      } catch {
        await sleep(RETRY_MS);
      }
    }
  }

  private async read(from: string): Promise<void> {
    this.reading = true;
    let position = from;
    try {
      while (!this.closed && this.subscribers.size > 0) {
        try {
          const reader = await this.readerClient();
          const reading = reader.sendCommand([
            "XREAD", "COUNT", String(READ_COUNT), "BLOCK", String(BLOCK_MS), "STREAMS", this.stream, position,
          ]);
          // a connection that went silent (half-open, server frozen) is replaced rather than waited on for ever
          const reply = await withDeadline(reading, BLOCK_MS + this.conn.timeoutMs).catch((error: unknown) => {
            if (error instanceof StoreUnavailableError && this.reader === reader) this.dropReader();
            throw error;
          });
          for (const entry of xreadEntries(reply)) {
            position = entry[0];
            this.dispatch(toAuditEvent(entry));
          }
        } catch {
          if (!this.closed) await sleep(RETRY_MS);
        }
      }
    } finally {
      this.reading = false;
    }
  }

  private async readerClient(): Promise<RedisClientLike> {
    if (this.reader?.isReady) return this.reader;
    if (!this.reader) {
      this.reader = this.conn.duplicate();
      const connecting = this.reader.connect();
      connecting.catch(() => {});
      await connecting;
    }
    if (this.closed || !this.reader?.isReady) throw new Error("audit stream reader is not connected");
    return this.reader;
  }

  private dispatch(event: AuditEvent): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.after === null) {
        if (subscriber.buffer.length < MAX_BUFFERED) subscriber.buffer.push(event);
      } else {
        this.deliver(subscriber, event);
      }
    }
  }

  private deliver(subscriber: Subscriber, event: AuditEvent): void {
    if (subscriber.after === null || compareStreamIds(event.id, subscriber.after) <= 0) return;
    if (!this.subscribers.has(subscriber)) return;
    try {
      subscriber.listener(structuredClone(event));
    } catch {
      // a throwing listener must not stop the feed for everyone else
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
