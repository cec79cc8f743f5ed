import { z } from "zod";
import { channelTypeProblem, idProblem } from "../../pairing/validation.js";
import type { JsonValue } from "../../protocols/types.js";
import type { AuditEventType } from "../events.js";

/**
 * The lines of a gatehouse export (JSON lines): one header, then pairings, API tokens (hashes only) and the audit
 * history. Pending requests and invites are not exported: they live an hour at most, and an invite's code exists
 * only as a hash. Session bindings are not exported either: a client gets a new session when it reconnects.
 */
export const EXPORT_FORMAT = "gatehouse-export";
export const EXPORT_VERSION = 1;

/**
 * Which audit events are history worth moving (true) and which are signals between running instances (false). A
 * Record, so a new event type does not compile until someone decides which it is.
 */
const KEPT_IN_EXPORT: Record<AuditEventType, boolean> = {
  requested: true,
  "invite-created": true,
  approved: true,
  "owner-claimed": true,
  denied: true,
  revoked: true,
  expired: true,
  "redeem-failed": true,
  "locked-out": true,
  "token-revoked": true,
  "approval-requested": true,
  "approval-approved": true,
  "approval-denied": true,
  "approval-expired": true,
  "console-session-ended": false,
  "channel-notice": false,
};
const AUDIT_TYPES = Object.keys(KEPT_IN_EXPORT).filter((t) => KEPT_IN_EXPORT[t as AuditEventType]) as [
  AuditEventType,
  ...AuditEventType[],
];

/** Whether an audit event of this type belongs in an export. */
export function keptInExport(type: AuditEventType): boolean {
  return KEPT_IN_EXPORT[type];
}

const time = z.number().int().nonnegative();
const channelType = z.string().superRefine((value, ctx) => {
  const problem = channelTypeProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const channelId = z.string().superRefine((value, ctx) => {
  const problem = idProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const json: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

export const headerRecord = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  /** The backend the records came from (information only). */
  source: z.string().max(100),
  exportedAt: time,
});

export const pairedRecord = z.strictObject({
  type: z.literal("paired"),
  channelType,
  channelId,
  label: z.string().max(512),
  pairedAt: time,
  approvedBy: z.string().max(512).optional(),
});

export const tokenRecord = z.strictObject({
  type: z.literal("token"),
  id: z.string().regex(/^tok_[A-Za-z0-9_-]{1,64}$/, "must look like tok_…"),
  hash: z.string().regex(/^[0-9a-f]{64}$/, "must be a hex SHA-256 (64 characters)"),
  role: z.string().min(1).max(64),
  userId: z.string().min(1).max(512),
  label: z.string().max(512),
  createdAt: time,
});

export const auditRecord = z.strictObject({
  type: z.literal("audit"),
  event: z.enum(AUDIT_TYPES),
  at: time,
  channelType: z.string().min(1).max(64),
  channelId: z.string().max(512),
  actor: z.string().max(512),
  kind: z.enum(["request", "invite"]).optional(),
  detail: z.record(z.string(), json),
});

export const dataRecord = z.discriminatedUnion("type", [pairedRecord, tokenRecord, auditRecord]);

export type ExportHeader = z.infer<typeof headerRecord>;
export type PairedRecord = z.infer<typeof pairedRecord>;
export type TokenRecord = z.infer<typeof tokenRecord>;
export type AuditRecord = z.infer<typeof auditRecord>;
export type DataRecord = z.infer<typeof dataRecord>;

/** One problem with an import file, by line (1-based), saying what was wrong; nothing has been written. */
export class ImportFileError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = "ImportFileError";
  }
}

/** Reads an export's text: every line is checked before anything is written, so a bad file changes nothing. */
export function parseExport(text: string): { header: ExportHeader; records: DataRecord[] } {
  const lines = text.split("\n");
  let header: ExportHeader | null = null;
  const records: DataRecord[] = [];
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ImportFileError(line, "not JSON");
    }
    if (header === null) {
      const parsed = headerRecord.safeParse(value);
      if (!parsed.success) {
        throw new ImportFileError(
          line,
          `the first line must be a ${EXPORT_FORMAT} version ${EXPORT_VERSION} header (${issueText(parsed.error)})`,
        );
      }
      header = parsed.data;
      return;
    }
    const parsed = dataRecord.safeParse(value);
    if (!parsed.success) throw new ImportFileError(line, issueText(parsed.error));
    records.push(parsed.data);
  });
  if (header === null) throw new ImportFileError(1, "the file is empty (no header line)");
  return { header, records };
}

export function issueText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}
