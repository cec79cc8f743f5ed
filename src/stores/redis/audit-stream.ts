import type { JsonValue, PendingKind } from "../../protocols/types.js";
import { StoreUnavailableError } from "../../pairing/errors.js";
import { auditLimit, auditMatches } from "../shared.js";
import type { AuditEvent, AuditEventType, AuditPage, AuditQuery, AuditResync } from "../types.js";
import { evalScript, withDeadline, type RedisClientLike, type RedisConnection } from "./connection.js";
import { AUDIT_TAIL } from "./scripts.js";

/**
 * The audit log is one Redis stream (XADD from the Lua scripts). Event ids are stream ids, so `audit()` pages with
 * XRANGE from an exclusive start, and every instance learns of every decision by tailing the stream (AuditFeed).
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
    if (first && typeof first === "object" && "messages" in first)
      return toEntries((first as { messages: unknown }).messages);
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
export async function readAuditPage(
  conn: RedisConnection,
  stream: string,
  query: AuditQuery | undefined,
): Promise<AuditPage> {
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
  onResync: ((resync: AuditResync) => void) | undefined;
  /** Stream id of the last event before this subscription; null until known. */
  after: string | null;
  buffer: AuditEvent[];
  /** A gap found before this subscriber knew where it starts, told once it does. */
  pendingResync: AuditResync | null;
}

/** One atomic look at the stream (AUDIT_TAIL). */
interface StreamTail {
  /** Entries ever added; null before Redis 7 (no gap detection by count there). */
  added: number | null;
  length: number;
  first: string | null;
  last: string | null;
  entries: StreamEntry[];
}

function toTail(reply: unknown): StreamTail {
  const [added, length, first, last, entries] = Array.isArray(reply) ? (reply as unknown[]) : [];
  const count = Number(added);
  return {
    added: Number.isInteger(count) && count >= 0 ? count : null,
    length: Number(length) || 0,
    first: typeof first === "string" && first !== "" ? first : null,
    last: typeof last === "string" && last !== "" ? last : null,
    entries: toEntries(entries),
  };
}

/** Where the reader is: the last id it handed out and how many entries the stream had ever held up to it. */
interface Position {
  id: string;
  /** Entries ever added up to and including `id`; null when unknown (Redis before 7). */
  index: number | null;
}

/**
 * How many entries after `position` were trimmed before they were read: by count (entries ever added minus entries
 * left, against the reader's index), or before Redis 7 by the stream now starting after the last id read (which
 * cannot tell how many, so 1).
 */
function missedBy(tail: StreamTail, position: Position): number {
  if (tail.added !== null && position.index !== null) return Math.max(0, tail.added - tail.length - position.index);
  if (position.id !== "0-0" && tail.first !== null && compareStreamIds(tail.first, position.id) > 0) return 1;
  return 0;
}

/**
 * Tails the audit stream on a duplicated connection and hands every new event to the subscribers, each exactly once
 * and in stream order. Each subscriber's starting point is the stream's last id, read on the store's own connection at
 * subscribe time, so every decision this store makes after `subscribe()` is delivered, and nothing from before it.
 *
 * The stream is trimmed (audit-retention.ts). Every read is one script (AUDIT_TAIL) that also counts the entries ever
 * added, so a reader that fell behind the trim point (it was away, or Redis was) notices exactly how many it missed,
 * logs nothing itself, and tells every subscriber through `onResync` before the events that follow; waiting for new
 * entries is a blocking XREAD used only as a wake-up.
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

  subscribe(listener: (event: AuditEvent) => void, onResync?: (resync: AuditResync) => void): () => void {
    if (this.closed) return () => {};
    const subscriber: Subscriber = { listener, onResync, after: null, buffer: [], pendingResync: null };
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
        // one command sent at once (EVAL, never EVALSHA + a retry), so it is ordered before this store's next write
        const tail = toTail(
          await this.conn.run(() => this.conn.command(["EVAL", AUDIT_TAIL.source, "1", this.stream, "", "0"])),
        );
        const after = tail.last ?? "0-0";
        subscriber.after = after;
        const resync = subscriber.pendingResync;
        subscriber.pendingResync = null;
        if (resync) this.tell(subscriber, resync);
        const buffered = subscriber.buffer.splice(0);
        for (const event of buffered) this.deliver(subscriber, event);
        if (!this.reading) void this.read({ id: after, index: tail.added });
        return;
      } catch {
        await sleep(RETRY_MS);
      }
    }
  }

  private async read(from: Position): Promise<void> {
    this.reading = true;
    const position = { ...from };
    try {
      while (!this.closed && this.subscribers.size > 0) {
        try {
          const reader = await this.readerClient();
          const tail = toTail(
            await this.bounded(
              reader,
              evalScript(reader, AUDIT_TAIL, [this.stream], [position.id, String(READ_COUNT)]),
              this.conn.timeoutMs,
            ),
          );
          const missed = missedBy(tail, position);
          if (missed > 0) {
            this.resync({ missed, after: position.id === "0-0" ? null : position.id });
            if (tail.added !== null) position.index = tail.added - tail.length;
          }
          for (const entry of tail.entries) {
            position.id = entry[0];
            if (position.index !== null) position.index += 1;
            this.dispatch(toAuditEvent(entry));
          }
          if (tail.entries.length === READ_COUNT) continue;
          // nothing more yet: wait (blocking) until something is added, then read it with the script above
          const waiting = reader.sendCommand([
            "XREAD",
            "COUNT",
            "1",
            "BLOCK",
            String(BLOCK_MS),
            "STREAMS",
            this.stream,
            position.id,
          ]);
          await this.bounded(reader, waiting, BLOCK_MS + this.conn.timeoutMs);
        } catch {
          if (!this.closed) await sleep(RETRY_MS);
        }
      }
    } finally {
      this.reading = false;
    }
  }

  /** A connection that went silent (half-open, server frozen) is replaced rather than waited on for ever. */
  private bounded<T>(reader: RedisClientLike, work: Promise<T>, ms: number): Promise<T> {
    return withDeadline(work, ms).catch((error: unknown) => {
      if (error instanceof StoreUnavailableError && this.reader === reader) this.dropReader();
      throw error;
    });
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

  private resync(resync: AuditResync): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.after === null) subscriber.pendingResync = resync;
      else this.tell(subscriber, resync);
    }
  }

  private tell(subscriber: Subscriber, resync: AuditResync): void {
    if (!subscriber.onResync || !this.subscribers.has(subscriber)) return;
    try {
      subscriber.onResync({ ...resync });
    } catch {
      // a throwing listener must not stop the feed for everyone else
    }
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
