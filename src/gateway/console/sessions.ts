import { createHash, randomBytes } from "node:crypto";

/**
 * Server-side console sessions, kept in this process's memory. The browser only ever holds a signed, HttpOnly cookie
 * with the random session id; the owner's token stays here so every request re-runs the gateway's auth with it (a
 * deleted token or expired JWT ends the session on the next request). Short-lived single-use WebSocket tickets let the
 * page open an owner socket without putting the token in JavaScript.
 */
export interface ConsoleSession {
  readonly id: string;
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
  lastSeenAt: number;
}

export interface ConsoleSessionOptions {
  /** A session ends this long after sign-in, whatever happens. Default 8 hours. */
  absoluteTtlMs?: number;
  /** A session not used for this long ends. Default 1 hour. */
  idleTtlMs?: number;
  /** A WebSocket ticket is redeemable once, within this long. Default 30 seconds. */
  ticketTtlMs?: number;
  /** At most this many live sessions; the oldest goes first. Default 1000. */
  maxSessions?: number;
  now?: () => number;
}

export const TICKET_PREFIX = "ghws_";
const TICKET_FORMAT = /^ghws_[A-Za-z0-9_-]{43}$/;

interface Ticket {
  sessionId: string;
  expiresAt: number;
}

function random(): string {
  return randomBytes(32).toString("base64url");
}

/** Tickets and session ids are looked up by their hash, so the map keys are never the secrets themselves. */
function keyOf(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly tickets = new Map<string, Ticket>();
  private readonly absoluteTtlMs: number;
  private readonly idleTtlMs: number;
  private readonly ticketTtlMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;
  private readonly endedListeners = new Set<(ref: string) => void>();

  constructor(options: ConsoleSessionOptions = {}) {
    this.absoluteTtlMs = options.absoluteTtlMs ?? 8 * 60 * 60_000;
    this.idleTtlMs = options.idleTtlMs ?? 60 * 60_000;
    this.ticketTtlMs = options.ticketTtlMs ?? 30_000;
    this.maxSessions = options.maxSessions ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds a new session's cookie may live (the absolute lifetime). */
  get cookieMaxAgeSeconds(): number {
    return Math.floor(this.absoluteTtlMs / 1000);
  }

  create(token: string): ConsoleSession {
    this.sweep();
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (oldest.done) break;
      this.end(oldest.value);
    }
    const now = this.now();
    const id = random();
    const session: ConsoleSession = { id, ref: keyOf(id), token, csrf: random(), createdAt: now, lastSeenAt: now };
    this.sessions.set(session.ref, session);
    return session;
  }

  /** The live session with this id (and marks it used), or null. */
  get(id: string): ConsoleSession | null {
    return this.byRef(keyOf(id));
  }

  /** The live session with this handle (see ConsoleSession.ref) and marks it used, or null. */
  byRef(ref: string): ConsoleSession | null {
    const session = this.sessions.get(ref);
    if (!session) return null;
    const now = this.now();
    if (now - session.createdAt >= this.absoluteTtlMs || now - session.lastSeenAt >= this.idleTtlMs) {
      this.end(ref);
      return null;
    }
    session.lastSeenAt = now;
    return session;
  }

  /** Ends a session (sign-out, or its token no longer accepted): its tickets go, and so do sockets opened from it. */
  destroy(id: string): boolean {
    for (const [ticketKey, ticket] of this.tickets) if (ticket.sessionId === id) this.tickets.delete(ticketKey);
    return this.end(keyOf(id));
  }

  /**
   * Calls `listener(ref)` whenever a session ends, however it ends (sign-out, expiry, eviction, a refused token, close),
   * so whatever was opened from it (owner WebSockets) can be closed. Returns the unsubscribe function.
   */
  onEnded(listener: (ref: string) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /** A single-use ticket that stands for this session on one WebSocket connect. */
  issueTicket(session: ConsoleSession): { ticket: string; expiresAt: number } {
    this.sweep();
    const ticket = `${TICKET_PREFIX}${random()}`;
    const expiresAt = this.now() + this.ticketTtlMs;
    this.tickets.set(keyOf(ticket), { sessionId: session.id, expiresAt });
    return { ticket, expiresAt };
  }

  /** Redeems a ticket once: the session it stands for, or null (unknown, used, expired or its session ended). */
  redeemTicket(ticket: string): ConsoleSession | null {
    if (!TICKET_FORMAT.test(ticket)) return null;
    const key = keyOf(ticket);
    const entry = this.tickets.get(key);
    if (!entry) return null;
    this.tickets.delete(key);
    if (this.now() >= entry.expiresAt) return null;
    return this.get(entry.sessionId);
  }

  get size(): number {
    return this.sessions.size;
  }

  clear(): void {
    this.tickets.clear();
    for (const ref of [...this.sessions.keys()]) this.end(ref);
  }

  private end(ref: string): boolean {
    if (!this.sessions.delete(ref)) return false;
    for (const listener of [...this.endedListeners]) {
      try {
        listener(ref);
      } catch {
        // a listener's failure must not keep a session alive or stop the others from hearing of its end
      }
    }
    return true;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, session] of this.sessions) {
      if (now - session.createdAt >= this.absoluteTtlMs || now - session.lastSeenAt >= this.idleTtlMs) this.end(key);
    }
    for (const [key, ticket] of this.tickets) if (now >= ticket.expiresAt) this.tickets.delete(key);
  }
}

/** Whether a presented credential looks like a console WebSocket ticket (so it is never sent to the token backend). */
export function isTicketShaped(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(TICKET_PREFIX);
}
