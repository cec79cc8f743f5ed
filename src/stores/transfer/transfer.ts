import { createHash } from "node:crypto";
import type { AuditEvent } from "../events.js";
import type { RestoreRecords, Stores, TokenStore } from "../types.js";
import {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  keptInExport,
  type AuditRecord,
  type DataRecord,
  type ExportHeader,
  type PairedRecord,
  type TokenRecord,
} from "./records.js";

/** Records per restore call, so each stays well inside the store's deadline. */
const CHUNK = 200;

/** Everything in `stores` that `gatehouse import` can put back: the header line first. */
export async function* exportRecords(stores: Stores, now: number): AsyncGenerator<ExportHeader | DataRecord> {
  yield { format: EXPORT_FORMAT, version: EXPORT_VERSION, source: stores.backend, exportedAt: now };
  for (const p of await stores.pairing.listPaired()) {
    const record: PairedRecord = {
      type: "paired",
      channelType: p.channelType,
      channelId: p.channelId,
      label: p.label,
      pairedAt: p.pairedAt,
    };
    if (p.approvedBy !== undefined) record.approvedBy = p.approvedBy;
    yield record;
  }
  for (const t of (await stores.tokens?.list()) ?? []) {
    yield {
      type: "token",
      id: t.id,
      hash: t.hash,
      role: t.role,
      userId: t.userId,
      label: t.label,
      createdAt: t.createdAt,
    };
  }
  for await (const e of auditEvents(stores)) if (keptInExport(e.type)) yield auditRecord(e);
}

/** Every event of the store's audit history, oldest first, a page at a time. */
async function* auditEvents(stores: Stores): AsyncGenerator<AuditEvent> {
  for (let after: string | undefined; ; ) {
    const page = await stores.pairing.audit({ after, limit: 500 });
    yield* page.events;
    if (page.next === null) return;
    after = page.next;
  }
}

function auditRecord(e: AuditEvent): AuditRecord {
  const record: AuditRecord = {
    type: "audit",
    event: e.type,
    at: e.at,
    channelType: e.channelType,
    channelId: e.channelId,
    actor: e.actor,
    detail: e.detail,
  };
  if (e.kind !== undefined) record.kind = e.kind;
  return record;
}

export interface ImportSummary {
  paired: { added: number; present: number };
  tokens: { added: number; present: number };
  audit: { added: number; present: number; notKept: number };
  /** How pairings were written: as they were (`restore`), or through generateCode/approve (times become now). */
  method: "restore" | "protocol";
}

/** A record the target cannot take; thrown before anything is written. */
export class ImportConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImportConflictError";
  }
}

/**
 * Writes parsed records into `stores`. Idempotent: pairings, tokens and history already there are left alone, so an
 * interrupted import can be run again. Conflicts (a token id that exists with another hash) are found before anything
 * is written.
 */
export async function importRecords(stores: Stores, records: readonly DataRecord[]): Promise<ImportSummary> {
  const paired = records.filter((r): r is PairedRecord => r.type === "paired");
  const tokens = records.filter((r): r is TokenRecord => r.type === "token");
  const audit = records.filter((r): r is AuditRecord => r.type === "audit");
  const tokenStore = tokens.length > 0 ? requireTokenStore(stores) : null;
  const newTokens = tokenStore ? await tokensToAdd(tokenStore, tokens) : [];

  const already = await stores.pairing.isPairedMany(paired);
  const newPaired = paired.filter((_, i) => !already[i]);
  const restore = stores.pairing.restore?.bind(stores.pairing);
  const summary: ImportSummary = {
    paired: { added: newPaired.length, present: paired.length - newPaired.length },
    tokens: { added: newTokens.length, present: tokens.length - newTokens.length },
    audit: { added: 0, present: 0, notKept: 0 },
    method: restore ? "restore" : "protocol",
  };

  for (const token of newTokens) {
    const { type: _type, ...record } = token;
    await (tokenStore as TokenStore).insert(record);
  }
  if (restore) {
    const newAudit = await historyToAdd(stores, audit);
    summary.audit = { added: newAudit.length, present: audit.length - newAudit.length, notKept: 0 };
    for (let i = 0; i < Math.max(newPaired.length, newAudit.length); i += CHUNK) {
      const chunk: RestoreRecords = {
        paired: newPaired.slice(i, i + CHUNK).map(({ type: _type, ...p }) => p),
        audit: newAudit.slice(i, i + CHUNK),
      };
      await restore(chunk);
    }
  } else {
    summary.audit.notKept = audit.length;
    for (const p of newPaired) {
      const code = await stores.pairing.generateCode(p.channelType, p.channelId, { userName: p.label });
      await stores.pairing.approve(p.channelType, code, "", p.label, { approvedBy: p.approvedBy ?? "import" });
    }
  }
  return summary;
}

function requireTokenStore(stores: Stores): TokenStore {
  if (!stores.tokens)
    throw new ImportConflictError(`the ${stores.backend} store does not keep API tokens, and the file has some`);
  return stores.tokens;
}

async function tokensToAdd(store: TokenStore, tokens: readonly TokenRecord[]): Promise<TokenRecord[]> {
  const byId = new Map((await store.list()).map((t) => [t.id, t]));
  const fresh: TokenRecord[] = [];
  for (const token of tokens) {
    const existing = byId.get(token.id) ?? (await store.findByHash(token.hash));
    if (!existing) {
      fresh.push(token);
      continue;
    }
    if (existing.id !== token.id || existing.hash !== token.hash) {
      throw new ImportConflictError(
        `token ${token.id} exists in the target store as a different token; nothing was imported`,
      );
    }
  }
  return fresh;
}

/**
 * Each imported event carries a fingerprint of itself in `detail.restored`; events whose fingerprint the target's
 * history already holds are skipped, so importing one file twice keeps one copy.
 */
async function historyToAdd(stores: Stores, audit: readonly AuditRecord[]): Promise<Array<Omit<AuditEvent, "id">>> {
  const present = new Set<string>();
  if (audit.length > 0) {
    for await (const e of auditEvents(stores))
      if (typeof e.detail.restored === "string") present.add(e.detail.restored);
  }
  const fresh: Array<Omit<AuditEvent, "id">> = [];
  for (const r of audit) {
    const fingerprint = fingerprintOf(r);
    if (present.has(fingerprint)) continue;
    present.add(fingerprint);
    const event: Omit<AuditEvent, "id"> = {
      at: r.at,
      type: r.event,
      channelType: r.channelType,
      channelId: r.channelId,
      actor: r.actor,
      detail: { ...r.detail, restored: fingerprint },
    };
    if (r.kind !== undefined) event.kind = r.kind;
    fresh.push(event);
  }
  return fresh;
}

/** The same event gives the same fingerprint whichever way it was read (key order of objects does not matter). */
function fingerprintOf(r: AuditRecord): string {
  const canonical = (value: unknown): unknown =>
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => [k, canonical(v)]),
        )
      : Array.isArray(value)
        ? value.map(canonical)
        : value;
  const { restored: _previous, ...detail } = r.detail;
  const tuple = [r.event, r.at, r.channelType, r.channelId, r.actor, r.kind ?? null, canonical(detail)];
  return createHash("sha256").update(JSON.stringify(tuple)).digest("hex").slice(0, 24);
}
