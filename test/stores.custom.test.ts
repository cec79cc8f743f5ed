/**
 * A third-party store, written here as a plain object literal over Maps (no class, no gatehouse base type), run through the
 * same exported conformance suites the built-in stores pass. Proves a store author can use `gatehouse/testing`.
 */
import { describe, it } from "vitest";
import {
  isPairingProtocol,
  isSessionBindingProtocol,
  PairingInputError,
  PairingLimitError,
  type PairedChannel,
  type PairingProtocol,
  type PendingRequest,
  type Principal,
  type SessionBindingProtocol,
} from "../src/index.js";
import { formatCode, generateRawCode, normalizeCode } from "../src/pairing/codes.js";
import { hashCode } from "../src/pairing/hashing.js";
import { describePairingStore, describeSessionBindingStore, type SuiteContext } from "../src/testing/index.js";

interface Entry {
  kind: "request" | "invite";
  channelType: string;
  channelId: string;
  createdAt: number;
  expiresAt: number;
  display: string;
  wrong: number;
}

const validId = (v: unknown): v is string =>
  typeof v === "string" && v.length > 0 && v.length <= 256 && !/[\u0000-\u001f]/.test(v);
const validType = (v: unknown): v is string => typeof v === "string" && /^[a-z0-9][a-z0-9_.-]{0,63}$/.test(v);

function customPairingStore({ now, rules, secret }: SuiteContext): PairingProtocol {
  const pending = new Map<string, Entry>();
  const paired = new Map<string, PairedChannel>();
  const failures = new Map<string, { start: number; count: number; lockedUntil: number }>();
  const key = (type: string, id: string) => JSON.stringify([type, id]);
  const sweep = () => {
    for (const [hash, e] of pending) if (e.expiresAt <= now()) pending.delete(hash);
  };
  const fail = (type: string, userId: string) => {
    const k = key(type, userId);
    let f = failures.get(k);
    if (!f || now() - f.start >= rules.redeemFailureWindowMs)
      failures.set(k, (f = { start: now(), count: 0, lockedUntil: 0 }));
    if (++f.count >= rules.redeemFailureLimit) f.lockedUntil = now() + rules.lockoutMs;
  };
  return {
    generateCode(channelType = "unknown", channelId?: string) {
      if (!validType(channelType)) throw new PairingInputError("channelType", "is not a valid channel type");
      if (channelId !== undefined && !validId(channelId)) throw new PairingInputError("channelId", "is not a valid id");
      sweep();
      const mine = [...pending.values()].find(
        (e) => e.kind === "request" && e.channelType === channelType && e.channelId === channelId,
      );
      if (mine) return mine.display;
      if ([...pending.values()].filter((e) => e.channelType === channelType).length >= rules.maxPendingPerChannelType) {
        throw new PairingLimitError(channelType, rules.maxPendingPerChannelType);
      }
      const code = generateRawCode();
      const kind = channelId === undefined ? "invite" : "request";
      const ttl = kind === "request" ? rules.requestTtlMs : rules.inviteTtlMs;
      pending.set(hashCode(secret, channelType, code), {
        kind,
        channelType,
        channelId: channelId ?? "",
        createdAt: now(),
        expiresAt: now() + ttl,
        display: kind === "request" ? formatCode(code) : "hidden",
        wrong: 0,
      });
      return formatCode(code);
    },
    approve(channelType, code, userId = "", userName = "") {
      const canonical = normalizeCode(code);
      if (!canonical || !validType(channelType) || (userId !== "" && !validId(userId))) return false;
      sweep();
      if (userId && (failures.get(key(channelType, userId))?.lockedUntil ?? 0) > now()) return false;
      const hash = hashCode(secret, channelType, canonical);
      const entry = pending.get(hash);
      const ok = entry && (entry.kind === "invite" ? userId !== "" : userId === "" || userId === entry.channelId);
      if (!entry || !ok) {
        if (entry && userId && ++entry.wrong >= rules.codeFailureLimit) pending.delete(hash);
        if (userId) fail(channelType, userId);
        return false;
      }
      pending.delete(hash);
      if (userId) failures.delete(key(channelType, userId));
      const channelId = entry.kind === "invite" ? userId : entry.channelId;
      paired.set(key(channelType, channelId), {
        channelId,
        channelType,
        label: userName || channelId,
        pairedAt: now(),
      });
      return true;
    },
    isPaired: (channelId, channelType) => paired.has(key(channelType, channelId)),
    listPaired: () => [...paired.values()].map((p) => ({ ...p })),
    revoke(channelId, channelType) {
      const had = paired.delete(key(channelType, channelId));
      for (const [hash, e] of pending)
        if (e.channelType === channelType && e.channelId === channelId) pending.delete(hash);
      return had;
    },
    listPending(channelType?: string): PendingRequest[] {
      sweep();
      return [...pending.values()]
        .filter((e) => channelType === undefined || e.channelType === channelType)
        .map((e) => ({
          code: e.display,
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

function safeStringify(
  value: unknown,
  replacer: (this: Record<string, unknown>, key: string, value: unknown) => unknown,
): string {
  try {
    return JSON.stringify(value, replacer);
  } catch (error) {
    if (error instanceof PairingInputError) throw error;
    throw new PairingInputError("principal", "is not JSON-serialisable (circular?)");
  }
}

function customSessionStore({
  now,
  idleTtlMs,
}: SuiteContext): SessionBindingProtocol & { unbind(id: string): boolean } {
  const sessions = new Map<string, { json: string; seen: number }>();
  return {
    async bind(sessionId: string, principal: Principal) {
      if (!validId(sessionId)) throw new PairingInputError("sessionId", "is not a valid id");
      if (typeof principal !== "object" || principal === null)
        throw new PairingInputError("principal", "must be an object");
      const json = safeStringify(principal, function (this: Record<string, unknown>, k, v: unknown) {
        if (typeof v === "function" || typeof v === "bigint" || (typeof v === "number" && !Number.isFinite(v))) {
          throw new PairingInputError("principal", "is not JSON-serialisable");
        }
        if (this[k] instanceof Date) throw new PairingInputError("principal", "holds a Date, which is not JSON");
        return v;
      });
      sessions.set(sessionId, { json, seen: now() });
    },
    async lookup(sessionId: string) {
      const s = sessions.get(sessionId);
      if (!s || now() - s.seen >= idleTtlMs) return null;
      s.seen = now();
      return JSON.parse(s.json) as Principal;
    },
    unbind: (sessionId: string) => sessions.delete(sessionId),
  };
}

describe("a custom store written as an object literal", () => {
  it("satisfies the protocol guards without inheriting anything", async () => {
    const { createTestClock, SUITE_RULES } = await import("../src/testing/index.js");
    const clock = createTestClock();
    const ctx = { now: clock.now, clock, rules: SUITE_RULES, secret: Buffer.alloc(32, 1), idleTtlMs: 1000 };
    if (!isPairingProtocol(customPairingStore(ctx))) throw new Error("pairing guard refused the custom store");
    if (!isSessionBindingProtocol(customSessionStore(ctx))) throw new Error("session guard refused the custom store");
  });
});

describePairingStore("custom object literal", customPairingStore, { describe, it, extras: false });
describeSessionBindingStore("custom object literal", customSessionStore, { describe, it });
