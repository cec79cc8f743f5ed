import type { Principal } from "../../protocols/types.js";
import { isValidId } from "../../pairing/validation.js";
import { assertSessionId, parsePrincipal, serializePrincipal } from "../principal.js";
import { DEFAULT_SESSION_IDLE_TTL_MS, needsRefresh, sessionRefreshIntervalMs } from "../session-defaults.js";
import type { SessionBindingStore, SessionStoreOptions } from "../types.js";
import type { RedisConnection } from "./connection.js";
import { RedisKeys } from "./keys.js";
import { NATIVE_TTL_GRACE_MS } from "./pairing.js";
import { SESSION_BIND, SESSION_LOOKUP } from "./scripts.js";

/**
 * Session bindings in Redis: one hash per session (principal JSON + lastSeen by the store's clock). A lookup is one
 * HMGET; only when the session is idle past the TTL (forget it) or lastSeen is older than the refresh interval
 * (refresh it and the native TTL) does it run the lookup script, which re-checks atomically. A native TTL (idle TTL
 * plus a grace, from the last refresh) cleans up sessions nobody looks up again.
 */
export class RedisSessionBindingStore implements SessionBindingStore {
  private readonly keys: RedisKeys;
  private readonly now: () => number;
  private readonly idleTtlMs: number;
  private readonly refreshIntervalMs: number;
  private closed = false;

  constructor(
    private readonly conn: RedisConnection,
    prefix: string,
    options: SessionStoreOptions = {},
  ) {
    this.keys = new RedisKeys(prefix);
    this.now = options.now ?? Date.now;
    this.idleTtlMs = options.idleTtlMs ?? DEFAULT_SESSION_IDLE_TTL_MS;
    if (!Number.isFinite(this.idleTtlMs) || this.idleTtlMs <= 0) {
      throw new TypeError("session idleTtlMs must be a positive number of milliseconds");
    }
    this.refreshIntervalMs = sessionRefreshIntervalMs(this.idleTtlMs);
    conn.acquire();
  }

  async bind(sessionId: string, principal: Principal): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    const json = serializePrincipal(principal);
    const now = this.now();
    await this.conn.run(() =>
      this.conn.eval(SESSION_BIND, [this.keys.session(sessionId)], [json, String(now), this.nativeTtl()]),
    );
  }

  async lookup(sessionId: string): Promise<Principal | null> {
    this.assertOpen();
    if (!isValidId(sessionId)) return null; // never bound, so never found: no round trip
    const key = this.keys.session(sessionId);
    const now = this.now();
    return this.conn.run(async () => {
      const [principal, lastSeen] = sessionFields(await this.conn.command(["HMGET", key, "principal", "lastSeen"]));
      if (principal === null) return null;
      if (
        lastSeen !== null &&
        now - lastSeen < this.idleTtlMs &&
        !needsRefresh(lastSeen, now, this.refreshIntervalMs)
      ) {
        return parsePrincipal(principal);
      }
      const reply = await this.conn.eval(
        SESSION_LOOKUP,
        [key],
        [String(now), String(this.idleTtlMs), this.nativeTtl()],
      );
      return typeof reply === "string" ? parsePrincipal(reply) : null;
    });
  }

  async unbind(sessionId: string): Promise<boolean> {
    this.assertOpen();
    if (!isValidId(sessionId)) return false;
    const reply = await this.conn.run(() => this.conn.command(["DEL", this.keys.session(sessionId)]));
    return Number(reply) === 1;
  }

  async health(): Promise<void> {
    this.assertOpen();
    await this.conn.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.conn.release();
  }

  private nativeTtl(): string {
    return String(Math.ceil(this.idleTtlMs + NATIVE_TTL_GRACE_MS));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("redis session store is closed");
  }
}

/** The principal JSON and lastSeen of an HMGET reply; nulls for a missing session or field. */
function sessionFields(reply: unknown): [string | null, number | null] {
  const [principal, lastSeen] = Array.isArray(reply) ? (reply as unknown[]) : [];
  const seen = typeof lastSeen === "string" ? Number(lastSeen) : Number.NaN;
  return [typeof principal === "string" ? principal : null, Number.isFinite(seen) ? seen : null];
}
