import type { Principal } from "../../protocols/types.js";
import { isValidId } from "../../pairing/validation.js";
import { assertSessionId, parsePrincipal, serializePrincipal } from "../principal.js";
import { DEFAULT_SESSION_IDLE_TTL_MS } from "../session-defaults.js";
import type { SessionBindingStore, SessionStoreOptions } from "../types.js";
import type { RedisConnection } from "./connection.js";
import { RedisKeys } from "./keys.js";
import { NATIVE_TTL_GRACE_MS } from "./pairing.js";
import { SESSION_BIND, SESSION_LOOKUP } from "./scripts.js";

/**
 * Session bindings in Redis: one hash per session (principal JSON + lastSeen by the store's clock). A lookup past the
 * idle TTL forgets the session; otherwise it refreshes lastSeen. A native TTL (idle TTL plus a grace) cleans up
 * sessions nobody looks up again.
 */
export class RedisSessionBindingStore implements SessionBindingStore {
  private readonly keys: RedisKeys;
  private readonly now: () => number;
  private readonly idleTtlMs: number;
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
    conn.acquire();
  }

  async bind(sessionId: string, principal: Principal): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    const json = serializePrincipal(principal);
    const now = this.now();
    await this.conn.run(() => this.conn.eval(SESSION_BIND, [this.keys.session(sessionId)], [json, String(now), this.nativeTtl()]));
  }

  async lookup(sessionId: string): Promise<Principal | null> {
    this.assertOpen();
    if (!isValidId(sessionId)) return null; // never bound, so never found: no round trip
    const now = this.now();
    const reply = await this.conn.run(() =>
      this.conn.eval(SESSION_LOOKUP, [this.keys.session(sessionId)], [String(now), String(this.idleTtlMs), this.nativeTtl()]),
    );
    return typeof reply === "string" ? parsePrincipal(reply) : null;
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
