import type { PendingKind, PendingRequest } from "../protocols/types.js";
import { formatCode, generateRawCode, MASKED_CODE, normalizeCode } from "../pairing/codes.js";
import { CodeGenerationError } from "../pairing/errors.js";
import { hashCode } from "../pairing/hashing.js";
import { codeHashKey } from "../pairing/keys.js";
import {
  assertChannelType,
  assertFirstMessage,
  assertId,
  assertName,
  isValidChannelType,
  isValidId,
  isValidOptionalId,
} from "../pairing/validation.js";
import type {
  ApproveOptions,
  AuditEvent,
  AuditQuery,
  Clock,
  GenerateCodeDetails,
  PairingRules,
  PairingStoreOptions,
  SenderRef,
} from "./types.js";
import { DEFAULT_PAIRING_RULES } from "./types.js";

/** Settings every built-in pairing store resolves from its options the same way. */
export interface ResolvedPairingOptions {
  rules: PairingRules;
  now: Clock;
  key: Buffer;
  /** Draws a canonical code; checked, so a broken source never hands out a code nobody could type. */
  drawCode: () => string;
}

/**
 * Codes drawn for one new entry before generateCode gives up. Of 2^40 codes at most a few thousand are pending, so
 * even a second draw is a one-in-a-hundred-million event; ten in a row only happen when the random source is stuck.
 */
export const MAX_CODE_ATTEMPTS = 10;

export function resolvePairingOptions(options: PairingStoreOptions = {}): ResolvedPairingOptions {
  const { secret, now, drawCode } = options;
  if (drawCode !== undefined && typeof drawCode !== "function")
    throw new TypeError("pairing option drawCode must be a function");
  const rules: PairingRules = { ...DEFAULT_PAIRING_RULES };
  // Only the rule names are read: callers may pass a wider options object (dataDir, keyPrefix, ...).
  for (const name of Object.keys(DEFAULT_PAIRING_RULES) as (keyof PairingRules)[]) {
    const value: unknown = options[name];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new TypeError(`pairing option ${name} must be a positive number`);
    }
    rules[name] = value;
  }
  return { rules, now: now ?? Date.now, key: codeHashKey(secret), drawCode: checkedDraw(drawCode ?? generateRawCode) };
}

function checkedDraw(draw: () => string): () => string {
  return () => {
    const code = draw();
    if (normalizeCode(code) !== code)
      throw new TypeError("pairing option drawCode returned something that is not a canonical code");
    return code;
  };
}

/** A new pending entry, ready for a backend to insert. `code` is canonical and must never be stored for invites. */
export interface NewPendingEntry {
  code: string;
  hash: string;
  kind: PendingKind;
  channelType: string;
  channelId: string;
  userName: string;
  firstMessage: string;
  createdAt: number;
  expiresAt: number;
  /** What listPending shows: the code for a request, a mask for an invite. */
  display: string;
}

/** Validates generateCode's arguments (throws PairingInputError naming the field) and prepares a fresh entry. */
export function prepareGenerate(
  opts: ResolvedPairingOptions,
  channelType: unknown,
  channelId: unknown,
  details: GenerateCodeDetails | undefined,
): NewPendingEntry {
  assertChannelType(channelType);
  if (channelId !== undefined) assertId(channelId, "channelId");
  assertName(details?.userName, "userName");
  assertFirstMessage(details?.firstMessage);
  const kind: PendingKind = channelId === undefined ? "invite" : "request";
  const code = opts.drawCode();
  const createdAt = opts.now();
  const ttl = kind === "request" ? opts.rules.requestTtlMs : opts.rules.inviteTtlMs;
  return {
    code,
    hash: hashCode(opts.key, channelType, code),
    kind,
    channelType,
    channelId: channelId ?? "",
    userName: details?.userName ?? "",
    firstMessage: details?.firstMessage ?? "",
    createdAt,
    expiresAt: createdAt + ttl,
    display: kind === "request" ? formatCode(code) : MASKED_CODE,
  };
}

/**
 * A fresh code and hash for the same entry, when its code collided with a live one; `drawn` is how many codes were
 * drawn for it so far. Past MAX_CODE_ATTEMPTS it throws CodeGenerationError instead of looping on.
 */
export function regenerateCode(opts: ResolvedPairingOptions, entry: NewPendingEntry, drawn: number): NewPendingEntry {
  if (drawn >= MAX_CODE_ATTEMPTS) throw new CodeGenerationError(drawn);
  const code = opts.drawCode();
  return {
    ...entry,
    code,
    hash: hashCode(opts.key, entry.channelType, code),
    display: entry.kind === "request" ? formatCode(code) : MASKED_CODE,
  };
}

/** approve's arguments, checked before any store access; null means "refuse: false, nothing changed". */
export interface ApproveInput {
  channelType: string;
  hash: string;
  userId: string;
  userName: string;
}

export function prepareApprove(
  opts: ResolvedPairingOptions,
  channelType: unknown,
  code: unknown,
  userId: unknown,
  userName: unknown,
): ApproveInput | null {
  if (!isValidChannelType(channelType) || !isValidOptionalId(userId)) return null;
  if (userName !== "" && !isValidId(userName)) return null;
  const canonical = normalizeCode(code);
  if (canonical === null) return null;
  return {
    channelType,
    hash: hashCode(opts.key, channelType, canonical),
    userId: userId as string,
    userName: userName as string,
  };
}

/** deny's arguments, checked before any store access; null means "refuse". */
export function prepareCodeLookup(opts: ResolvedPairingOptions, channelType: unknown, code: unknown): string | null {
  if (!isValidChannelType(channelType)) return null;
  const canonical = normalizeCode(code);
  return canonical === null ? null : hashCode(opts.key, channelType, canonical);
}

/** True when both look like a real sender and channel type; anything else is simply "not paired". */
export function isValidSender(channelId: unknown, channelType: unknown): channelId is string {
  return isValidId(channelId) && isValidChannelType(channelType);
}

/**
 * One sender as a map or set key (the memory store's tables, the found pairings of an isPairedMany batch): U+0000
 * separates the two parts, and neither a channel type nor an id can hold it.
 */
export function senderKey(channelType: string, channelId: string): string {
  return `${channelType}\u0000${channelId}`;
}

/**
 * isPairedMany's frame for every store: senders that are not valid ids are `false` without asking the store; the valid
 * ones are asked in one go and the answers are put back in the order of `senders`.
 */
export async function askValidSenders(
  senders: readonly SenderRef[],
  ask: (valid: SenderRef[]) => boolean[] | Promise<boolean[]>,
): Promise<boolean[]> {
  const valid = senders.filter(({ channelId, channelType }) => isValidSender(channelId, channelType));
  if (valid.length === senders.length) return valid.length === 0 ? [] : ask(valid);
  const answers = valid.length === 0 ? [] : await ask(valid);
  let next = 0;
  return senders.map(({ channelId, channelType }) => isValidSender(channelId, channelType) && answers[next++] === true);
}

export function pendingView(
  entry: Pick<NewPendingEntry, "display" | "channelType" | "channelId" | "userName" | "createdAt" | "kind">,
  now: number,
): PendingRequest {
  return {
    code: entry.display,
    channelType: entry.channelType,
    channelId: entry.channelId,
    userId: entry.channelId,
    userName: entry.userName,
    createdAt: entry.createdAt,
    ageSeconds: Math.max(0, Math.floor((now - entry.createdAt) / 1000)),
    kind: entry.kind,
  };
}

/** The pairing label: the name given at approval, else the requester's name, else the id. */
export function pairingLabel(userName: string, requestedName: string, channelId: string): string {
  return userName || requestedName || channelId;
}

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;

export function auditLimit(query: AuditQuery | undefined): number {
  const limit = query?.limit ?? AUDIT_PAGE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError("limit must be a positive integer");
  return Math.min(limit, AUDIT_PAGE_MAX);
}

export function auditMatches(event: AuditEvent, query: AuditQuery | undefined): boolean {
  if (query?.type && event.type !== query.type) return false;
  if (query?.channelType && event.channelType !== query.channelType) return false;
  return true;
}

/**
 * Whether approve must refuse a live entry (or its absence): an invite needs a redeemer; a request is approved only for
 * exactly its sender, and never through an invite-only redemption.
 */
export function isRefused(
  entry: { kind: PendingKind; channelId: string } | undefined | null,
  userId: string,
  options: ApproveOptions,
): boolean {
  if (!entry) return true;
  if (entry.kind === "invite") return userId === "";
  if (options.inviteOnly) return true;
  return userId !== "" && userId !== entry.channelId;
}

/** One redeemer's failed redemptions on one channel type. */
export interface FailureWindow {
  windowStart: number;
  count: number;
  lockedUntil: number;
}

/**
 * The failure window after one more failed redemption, and the audit events that records: always `redeem-failed`, plus
 * `locked-out` when the count reaches the limit. A window older than `redeemFailureWindowMs` starts afresh.
 */
export function nextRedeemFailure(
  previous: FailureWindow | undefined,
  rules: Pick<PairingRules, "redeemFailureLimit" | "redeemFailureWindowMs" | "lockoutMs">,
  now: number,
  channelType: string,
  redeemer: string,
): { window: FailureWindow; events: Omit<AuditEvent, "id">[] } {
  const fresh = !previous || now - previous.windowStart >= rules.redeemFailureWindowMs;
  const window: FailureWindow = {
    windowStart: fresh ? now : previous.windowStart,
    count: (fresh ? 0 : previous.count) + 1,
    lockedUntil: fresh ? 0 : previous.lockedUntil,
  };
  const events: Omit<AuditEvent, "id">[] = [
    {
      at: now,
      type: "redeem-failed",
      channelType,
      channelId: redeemer,
      actor: redeemer,
      detail: { failures: window.count },
    },
  ];
  if (window.count >= rules.redeemFailureLimit) {
    window.lockedUntil = now + rules.lockoutMs;
    events.push({
      at: now,
      type: "locked-out",
      channelType,
      channelId: redeemer,
      actor: "system",
      detail: { until: window.lockedUntil },
    });
  }
  return { window, events };
}
