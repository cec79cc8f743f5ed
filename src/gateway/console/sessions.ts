import { createHash, randomBytes } from "node:crypto";
import { STORE_DEADLINE_MS, withDeadline } from "../../core/deadline.js";
import type { JsonValue } from "../../protocols/types.js";
import { MemorySeenOnceStore } from "../../stores/memory/seen-once.js";
import { MemorySessionBindingStore } from "../../stores/memory/session-binding.js";
import type { AnnouncementStore, SeenOnceStore, SessionBindingStore } from "../../stores/types.js";
import { SessionSeal } from "./session-seal.js";
import { TicketSigner } from "./tickets.js";

export { TICKET_PREFIX, isTicketShaped } from "./tickets.js";

/**
 * Console sessions, kept in the gateway's store so every instance on it shares them: sign in through one instance, use
 * the console through another, sign out anywhere and it ends everywhere. The browser holds only a signed, HttpOnly
 * cookie with the random session id; the store holds a record under the id's SHA-256 (never the id), whose owner token
 * and CSRF value are sealed (AES-256-GCM, key derived from the gateway secret, bound to the record's key), with its
 * sign-in and last-use times. Every request re-runs the gateway's auth with the token (a deleted token or expired JWT
 * ends the session on the next request). Short-lived single-use WebSocket tickets (signed, used once through the
 * store's seen-once keys) let the page open an owner socket without putting the token in JavaScript.
 */
export interface ConsoleSession {
  /** The cookie value; known only where the session was created or looked up by it. */
  readonly id?: string;
  /**
   * A handle naming the session without being its secret (the SHA-256 of the id): what sockets opened from the session
   * remember, so they can be closed when it ends and re-checked on every privileged call.
   */
  readonly ref: string;
  /** The credential presented at sign-in, re-checked on every request; never sent back to the browser. */
  readonly token: string;
  /** Per-session value the page echoes in the X-Gatehouse-CSRF header on state-changing requests. */
  readonly csrf: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

/** The store's parts console sessions live in (every built-in backend has them). */
export interface ConsoleSessionStores {
  sessions: Pick<SessionBindingStore, "bind" | "lookup" | "unbind">;
  /** Makes tickets single-use across instances. */
  seen?: SeenOnceStore;
  /** Tells every instance a session ended, so sockets opened from it close there too. */
  announcements?: AnnouncementStore;
}

export interface ConsoleSessionOptions {
  /** A session ends this long after sign-in, whatever happens. Default 8 hours. */
  absoluteTtlMs?: number;
  /** A session not used for this long ends (to within a minute). Default 1 hour. */
  idleTtlMs?: number;
  /** A WebSocket ticket is redeemable once, within this long. Default 30 seconds. */
  ticketTtlMs?: number;
  now?: () => number;
  /** Deadline of each store call. Default 2 s. */
  deadlineMs?: number;
}

/** How the record is named in the session store: a prefix no chat session id or channel type can have. */
const KEY_PREFIX = "~console:";
const PRINCIPAL = { userId: "~console", role: "~console-session" } as const;
/** Sessions heard ended elsewhere are remembered this long at most, and at most this many. */
const MAX_ENDED = 10_000;

function random(): string {
  return randomBytes(32).toString("base64url");
}

/** The SHA-256 of a session id, hex: its handle, and the key its record is stored under. */
function refOf(id: string): string {
  return createHash("sha256").update(id, "utf8").digest("hex");
}

export class ConsoleSessions {
  private readonly store: ConsoleSessionStores;
  private readonly seen: SeenOnceStore;
  private readonly seal: SessionSeal;
  private readonly tickets: TicketSigner;
  private readonly absoluteTtlMs: number;
  private readonly idleTtlMs: number;
  private readonly ticketTtlMs: number;
  private readonly refreshMs: number;
  private readonly deadlineMs: number;
  private readonly now: () => number;
  private readonly endedListeners = new Set<(ref: string) => void>();
  /** Sessions heard ended (from this instance or the feed), so a last-use write racing a sign-out cannot revive one. */
  private readonly ended = new Map<string, number>();

  constructor(secret: Buffer, store: ConsoleSessionStores | undefined, options: ConsoleSessionOptions = {}) {
    this.now = options.now ?? Date.now;
    this.absoluteTtlMs = options.absoluteTtlMs ?? 8 * 60 * 60_000;
    this.idleTtlMs = options.idleTtlMs ?? 60 * 60_000;
    this.ticketTtlMs = options.ticketTtlMs ?? 30_000;
    this.refreshMs = Math.min(60_000, this.idleTtlMs / 10);
    this.deadlineMs = options.deadlineMs ?? STORE_DEADLINE_MS;
    // Without a store (a console on its own, in tests): this process's memory, which is all one process needs.
    this.store = store ?? { sessions: new MemorySessionBindingStore({ now: this.now, idleTtlMs: this.absoluteTtlMs }) };
    this.seen = this.store.seen ?? new MemorySeenOnceStore(this.now);
    this.seal = new SessionSeal(secret);
    this.tickets = new TicketSigner(secret);
  }

  /** Seconds a new session's cookie may live (the absolute lifetime). */
  get cookieMaxAgeSeconds(): number {
    return Math.floor(this.absoluteTtlMs / 1000);
  }

  async create(token: string): Promise<ConsoleSession & { id: string }> {
    const now = this.now();
    const id = random();
    const session = { id, ref: refOf(id), token, csrf: random(), createdAt: now, lastSeenAt: now };
    await this.write(session);
    return session;
  }

  /** The live session with this cookie value (and marks it used), or null. Throws when the store cannot answer. */
  async get(id: string): Promise<ConsoleSession | null> {
    const session = await this.byRef(refOf(id));
    return session ? { ...session, id } : null;
  }

  /** The live session with this handle (see ConsoleSession.ref) and marks it used, or null. */
  async byRef(ref: string): Promise<ConsoleSession | null> {
    if (this.ended.has(ref)) return null;
    const sessions = this.store.sessions;
    const principal = await withDeadline("sessions.lookup", () => sessions.lookup(KEY_PREFIX + ref), this.deadlineMs);
    const session = principal ? this.open(ref, principal) : null;
    if (!session) return null;
    const now = this.now();
    if (now - session.createdAt >= this.absoluteTtlMs || now - session.lastSeenAt >= this.idleTtlMs) {
      await this.end(ref);
      return null;
    }
    if (now - session.lastSeenAt < this.refreshMs) return session;
    const used = { ...session, lastSeenAt: now };
    await this.write(used);
    // A sign-out heard while this write was under way must win: the record is removed again.
    if (this.ended.has(ref)) {
      await this.remove(ref);
      return null;
    }
    return used;
  }

  /**
   * Ends a session (sign-out, expiry, or its token no longer accepted): its record goes from the store, and every
   * instance hears of it (the audit feed), so sockets opened from it close everywhere. True when it was live.
   */
  async end(ref: string): Promise<boolean> {
    this.heardEnded(ref);
    const removed = await this.remove(ref);
    if (removed && this.store.announcements) {
      const announcements = this.store.announcements;
      await withDeadline(
        "announcements.announce",
        () =>
          announcements.announce({
            type: "console-session-ended",
            channelType: "console",
            channelId: ref,
            actor: "owner",
            detail: {},
          }),
        this.deadlineMs,
      );
    }
    return removed;
  }

  /** Ends the session with this cookie value. */
  destroy(id: string): Promise<boolean> {
    return this.end(refOf(id));
  }

  /**
   * A session ended (here, or on another instance: the gateway passes on the feed's `console-session-ended`): whatever
   * was opened from it here (owner WebSockets) is closed, and this instance refuses it from now on.
   */
  heardEnded(ref: string): void {
    const first = !this.ended.has(ref);
    this.ended.set(ref, this.now() + this.absoluteTtlMs);
    this.forgetOldEnded();
    if (!first) return;
    for (const listener of [...this.endedListeners]) {
      try {
        listener(ref);
      } catch {
        // a listener's failure must not keep a session alive or stop the others from hearing of its end
      }
    }
  }

  /**
   * Calls `listener(ref)` whenever a session ends, however it ends (sign-out here or elsewhere, expiry, a refused token),
   * so whatever was opened from it (owner WebSockets) can be closed. Returns the unsubscribe function.
   */
  onEnded(listener: (ref: string) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /** A single-use ticket that stands for this session on one WebSocket connect (at any instance). */
  issueTicket(session: ConsoleSession): { ticket: string; expiresAt: number } {
    const expiresAt = this.now() + this.ticketTtlMs;
    return { ticket: this.tickets.sign(session.ref, expiresAt), expiresAt };
  }

  /** Redeems a ticket once: the session it stands for, or null (forged, used, expired or its session ended). */
  async redeemTicket(ticket: string): Promise<ConsoleSession | null> {
    const claims = this.tickets.verify(ticket);
    if (!claims || this.now() >= claims.expiresAt) return null;
    const seen = this.seen;
    const first = await withDeadline(
      "seen.firstSighting",
      () => seen.firstSighting(`console-ticket:${claims.nonce}`, this.ticketTtlMs),
      this.deadlineMs,
    );
    return first ? this.byRef(claims.ref) : null;
  }

  /** Stops telling listeners (the gateway stops); the sessions stay in the store for the other instances. */
  close(): void {
    this.endedListeners.clear();
  }

  private async write(session: ConsoleSession): Promise<void> {
    const { ref, token, csrf, createdAt, lastSeenAt } = session;
    const sealed = this.seal.seal(ref, { token, csrf });
    const record = { ...PRINCIPAL, sealed, createdAt, lastSeenAt };
    const sessions = this.store.sessions;
    await withDeadline("sessions.bind", () => sessions.bind(KEY_PREFIX + ref, record), this.deadlineMs);
  }

  private async remove(ref: string): Promise<boolean> {
    const sessions = this.store.sessions;
    return withDeadline("sessions.unbind", () => sessions.unbind(KEY_PREFIX + ref), this.deadlineMs);
  }

  /** The session in a stored record, or null when it is not one of ours or does not open with this secret. */
  private open(ref: string, record: Record<string, JsonValue | undefined>): ConsoleSession | null {
    if (record.userId !== PRINCIPAL.userId || record.role !== PRINCIPAL.role) return null;
    const { sealed, createdAt, lastSeenAt } = record;
    if (typeof sealed !== "string" || typeof createdAt !== "number" || typeof lastSeenAt !== "number") return null;
    const opened = this.seal.open(ref, sealed);
    return opened ? { ref, token: opened.token, csrf: opened.csrf, createdAt, lastSeenAt } : null;
  }

  private forgetOldEnded(): void {
    const now = this.now();
    for (const [ref, until] of this.ended) {
      if (until > now && this.ended.size <= MAX_ENDED) break;
      this.ended.delete(ref);
    }
  }
}
