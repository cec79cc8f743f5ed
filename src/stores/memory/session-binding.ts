import type { Principal } from "../../protocols/types.js";
import { assertSessionId, parsePrincipal, serializePrincipal } from "../principal.js";
import { DEFAULT_SESSION_IDLE_TTL_MS, needsRefresh, sessionRefreshIntervalMs } from "../session-defaults.js";
import type { SessionBindingStore, SessionStoreOptions } from "../types.js";

interface Binding {
  json: string;
  lastSeen: number;
}

/**
 * Sessions in this process's memory; stored as JSON text so a lookup always returns a fresh copy. A lookup refreshes
 * last-seen only once it is older than the refresh interval (see SessionStoreOptions), like every built-in store.
 */
export class MemorySessionBindingStore implements SessionBindingStore {
  private readonly bindings = new Map<string, Binding>();
  private readonly now: () => number;
  private readonly idleTtlMs: number;
  private readonly refreshIntervalMs: number;
  private closed = false;

  constructor(options: SessionStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.idleTtlMs = options.idleTtlMs ?? DEFAULT_SESSION_IDLE_TTL_MS;
    this.refreshIntervalMs = sessionRefreshIntervalMs(this.idleTtlMs);
  }

  async bind(sessionId: string, principal: Principal): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    const json = serializePrincipal(principal);
    this.bindings.set(sessionId, { json, lastSeen: this.now() });
  }

  async lookup(sessionId: string): Promise<Principal | null> {
    this.assertOpen();
    if (typeof sessionId !== "string") return null;
    const binding = this.bindings.get(sessionId);
    if (!binding) return null;
    const now = this.now();
    if (now - binding.lastSeen >= this.idleTtlMs) {
      this.bindings.delete(sessionId);
      return null;
    }
    if (needsRefresh(binding.lastSeen, now, this.refreshIntervalMs)) binding.lastSeen = now;
    return parsePrincipal(binding.json);
  }

  async unbind(sessionId: string): Promise<boolean> {
    this.assertOpen();
    return typeof sessionId === "string" && this.bindings.delete(sessionId);
  }

  async health(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("memory session store is closed");
  }
}
