/**
 * A pairing store and a session store over plain Maps, written from docs/protocols.md: every required rule, plus the same
 * code for a waiting sender, expiry and invites. One process only (the Maps are its memory); see redis-store.ts and
 * sqlite-store.ts for stores that several processes share.
 *
 *   import { createGateway } from "gatehouse";
 *   const { pairing, sessions } = createMapStores();
 *   const gateway = createGateway({ pairingStore: pairing, sessionBinding: sessions });
 */
import { randomInt } from "node:crypto";
import type { PairedChannel, PairingProtocol, PendingRequest, Principal, SessionBindingProtocol } from "gatehouse";

const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

export interface MapStoreOptions {
  /** The clock, epoch milliseconds (the conformance suites pass their own). */
  now?: () => number;
  /** How long a request lives; invites live a sixth of it. Default one hour. */
  requestTtlMs?: number;
}

interface Entry {
  kind: "request" | "invite";
  channelType: string;
  channelId: string;
  code: string;
  createdAt: number;
  expiresAt: number;
}

/** Trimmed, upper-cased, spaces and dashes removed: how the owner may type a code back. */
const canonical = (code: unknown) => (typeof code === "string" ? code.trim().toUpperCase().replace(/[\s-]/g, "") : "");
const key = (channelType: string, channelId: string) => JSON.stringify([channelType, channelId]);

export function createMapPairingStore(options: MapStoreOptions = {}): PairingProtocol {
  const now = options.now ?? Date.now;
  const requestTtlMs = options.requestTtlMs ?? 60 * 60_000;
  const pending = new Map<string, Entry>(); // by channel type and canonical code
  const paired = new Map<string, PairedChannel>(); // by channel type and channel id
  const live = () => {
    for (const [k, entry] of pending) if (entry.expiresAt <= now()) pending.delete(k);
    return [...pending.values()];
  };
  const pair = (channelType: string, channelId: string, label: string) =>
    paired.set(key(channelType, channelId), { channelType, channelId, label, pairedAt: now() });

  return {
    generateCode(channelType = "unknown", channelId?: string) {
      const kind = channelId === undefined ? "invite" : "request";
      const mine = live().find(
        (e) => e.kind === "request" && e.channelType === channelType && e.channelId === channelId,
      );
      if (mine) return mine.code;
      let raw = "";
      for (let i = 0; i < 8; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
      const code = `${raw.slice(0, 4)}-${raw.slice(4)}`;
      const ttl = kind === "request" ? requestTtlMs : requestTtlMs / 6;
      pending.set(key(channelType, raw), {
        kind,
        channelType,
        channelId: channelId ?? "",
        code,
        createdAt: now(),
        expiresAt: now() + ttl,
      });
      return code;
    },
    approve(channelType, code, userId = "", userName = "") {
      live();
      const k = key(channelType, canonical(code));
      const entry = pending.get(k);
      if (!entry) return false;
      if (entry.kind === "request" && userId !== "" && userId !== entry.channelId) return false; // not the requester
      if (entry.kind === "invite" && userId === "") return false; // an invite pairs whoever redeems it
      pending.delete(k); // one synchronous step: nothing can approve the same code in between
      pair(channelType, entry.kind === "request" ? entry.channelId : userId, userName);
      return true;
    },
    isPaired: (channelId, channelType) => paired.has(key(channelType, channelId)),
    listPaired: () => [...paired.values()].map((p) => ({ ...p })),
    revoke: (channelId, channelType) => paired.delete(key(channelType, channelId)),
    listPending(channelType?: string): PendingRequest[] {
      return live()
        .filter((e) => channelType === undefined || e.channelType === channelType)
        .map((e) => ({
          code: e.kind === "invite" ? "****-****" : e.code,
          channelType: e.channelType,
          channelId: e.channelId,
          userId: e.channelId,
          userName: "",
          createdAt: e.createdAt,
          ageSeconds: Math.floor((now() - e.createdAt) / 1000),
          kind: e.kind,
        }));
    },
  };
}

/** True for what JSON keeps as it is: no functions, dates, bigints, NaN or cycles. */
function isPlainJson(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object" || seen.has(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return false;
  seen.add(value);
  const ok = Object.values(value).every((v) => v === undefined || isPlainJson(v, seen));
  seen.delete(value);
  return ok;
}

export function createMapSessionStore(): SessionBindingProtocol {
  const sessions = new Map<string, string>(); // the principal as JSON, so callers only ever get copies
  const checkId = (sessionId: unknown) => {
    if (
      typeof sessionId !== "string" ||
      sessionId === "" ||
      sessionId.length > 256 ||
      /[\u0000-\u001f]/.test(sessionId)
    ) {
      throw new TypeError("sessionId must be 1-256 printable characters");
    }
  };
  return {
    bind(sessionId, principal: Principal) {
      checkId(sessionId);
      if (typeof principal !== "object" || principal === null || !isPlainJson(principal)) {
        throw new TypeError("principal must be a plain JSON object");
      }
      sessions.set(sessionId, JSON.stringify(principal));
    },
    lookup(sessionId) {
      const json = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
      return json === undefined ? null : (JSON.parse(json) as Principal);
    },
  };
}

/** Both stores, as createGateway takes them. */
export function createMapStores(options: MapStoreOptions = {}): {
  pairing: PairingProtocol;
  sessions: SessionBindingProtocol;
} {
  return { pairing: createMapPairingStore(options), sessions: createMapSessionStore() };
}
