import type BetterSqlite3 from "better-sqlite3";
import {
  approvalAuditEvent,
  approvalEventsOnly,
  approvalFromRow,
  approvalView,
  isDecidable,
  newApprovalRecord,
  parseJsonField,
  APPROVAL_RETENTION_MS,
  type ApprovalDecision,
  type ApprovalEvent,
  type ApprovalRecord,
  type ApprovalRow,
  type ApprovalStore,
  type ApprovalStoreOptions,
  type DecideResult,
  type NewApproval,
} from "../approvals.js";
import { SqliteAuditLog } from "./audit-log.js";
import { guard, type SqliteConnection } from "./connection.js";

/** The approvals tables; safe to run on every open (like api_tokens, the migrations may take it over later). */
export const APPROVALS_SCHEMA = `
CREATE TABLE IF NOT EXISTS approvals (
  id         TEXT PRIMARY KEY,
  ref        TEXT NOT NULL UNIQUE,
  requester  TEXT NOT NULL,
  tool       TEXT NOT NULL,
  arguments  TEXT NOT NULL,
  risk       TEXT NOT NULL,
  agent      TEXT NOT NULL,
  session    TEXT NOT NULL,
  context    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  status     TEXT NOT NULL,
  decided_at INTEGER,
  approver   TEXT,
  reason     TEXT
);
CREATE INDEX IF NOT EXISTS approvals_pending ON approvals (status, created_at);
CREATE TABLE IF NOT EXISTS approval_claims (
  id     TEXT NOT NULL,
  holder TEXT NOT NULL,
  PRIMARY KEY (id, holder)
) WITHOUT ROWID;
`;

type Row = ApprovalRow & { created_at: number; expires_at: number; decided_at: number | null };

const toRecord = (row: Row): ApprovalRecord => approvalFromRow(row, (text) => parseJsonField(text as string));

/**
 * Approval requests in the gateway's SQLite file, shared by every process that opens it. Each create and decide is
 * one `BEGIN IMMEDIATE` transaction with its audit row, so of racing decisions exactly one changes the row; other
 * processes hear of it by polling the audit table.
 */
export class SqliteApprovalStore implements ApprovalStore {
  private readonly db: BetterSqlite3.Database;
  private readonly log: SqliteAuditLog;
  private readonly now: () => number;
  private readonly stmt: Record<"insert" | "byId" | "byRef" | "decide" | "pending" | "claim" | "forget" | "forgetClaims", BetterSqlite3.Statement>;
  private readonly createTx: BetterSqlite3.Transaction<(input: NewApproval, now: number) => { created: boolean; row: Row }>;
  private readonly decideTx: BetterSqlite3.Transaction<(id: string, decision: ApprovalDecision, now: number) => DecideResult>;
  private closed = false;

  constructor(
    private readonly connection: SqliteConnection,
    options: ApprovalStoreOptions = {},
  ) {
    this.db = connection.acquire().db;
    const db = this.db;
    db.exec(APPROVALS_SCHEMA);
    this.now = options.now ?? Date.now;
    this.log = new SqliteAuditLog(db);
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO approvals (id, ref, requester, tool, arguments, risk, agent, session, context, created_at, expires_at, status)
         VALUES (@id, @ref, @requester, @tool, @arguments, @risk, @agent, @session, @context, @createdAt, @expiresAt, 'pending')`,
      ),
      byId: db.prepare("SELECT * FROM approvals WHERE id = ?"),
      byRef: db.prepare("SELECT * FROM approvals WHERE ref = ?"),
      decide: db.prepare(
        "UPDATE approvals SET status = ?, approver = ?, reason = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
      ),
      pending: db.prepare("SELECT * FROM approvals WHERE status = 'pending' AND expires_at > ? ORDER BY created_at, rowid"),
      claim: db.prepare("INSERT OR IGNORE INTO approval_claims (id, holder) VALUES (?, ?)"),
      forget: db.prepare("DELETE FROM approvals WHERE expires_at < ?"),
      forgetClaims: db.prepare("DELETE FROM approval_claims WHERE id NOT IN (SELECT id FROM approvals)"),
    };
    this.createTx = db.transaction((input: NewApproval, now: number) => {
      this.stmt.forget.run(now - APPROVAL_RETENTION_MS);
      this.stmt.forgetClaims.run();
      const existing = this.stmt.byId.get(input.id) as Row | undefined;
      if (existing) return { created: false, row: existing };
      let record = newApprovalRecord(input, now);
      while (this.stmt.byRef.get(record.ref) !== undefined) record = newApprovalRecord(input, now);
      this.stmt.insert.run({ ...record, arguments: JSON.stringify(record.arguments), context: JSON.stringify(record.context) });
      this.log.append(approvalAuditEvent(record, "requested", record.requester, now));
      return { created: true, row: this.stmt.byId.get(input.id) as Row };
    });
    this.decideTx = db.transaction((id: string, decision: ApprovalDecision, now: number) => {
      const row = this.stmt.byId.get(id) as Row | undefined;
      if (!row) return { won: false, record: null };
      if (!isDecidable(row.status, row.expires_at, decision.outcome, now)) return { won: false, record: approvalView(toRecord(row), now) };
      this.stmt.decide.run(decision.outcome, decision.approver, decision.reason, now, id);
      const record = toRecord(this.stmt.byId.get(id) as Row);
      this.log.append(approvalAuditEvent(record, decision.outcome, decision.approver, now));
      return { won: true, record };
    });
  }

  async create(input: NewApproval): Promise<{ created: boolean; record: ApprovalRecord }> {
    this.assertOpen();
    const now = this.now();
    const { created, row } = guard(() => this.createTx.immediate(input, now));
    this.pumpQuietly();
    return { created, record: approvalView(toRecord(row), now) };
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    this.assertOpen();
    const row = guard(() => this.stmt.byId.get(id) as Row | undefined);
    return row ? approvalView(toRecord(row), this.now()) : null;
  }

  async getByRef(ref: string): Promise<ApprovalRecord | null> {
    this.assertOpen();
    const row = guard(() => this.stmt.byRef.get(ref) as Row | undefined);
    return row ? approvalView(toRecord(row), this.now()) : null;
  }

  async decide(id: string, decision: ApprovalDecision): Promise<DecideResult> {
    this.assertOpen();
    const result = guard(() => this.decideTx.immediate(id, decision, this.now()));
    if (result.won) this.pumpQuietly();
    return result;
  }

  async listPending(): Promise<ApprovalRecord[]> {
    this.assertOpen();
    return guard(() => (this.stmt.pending.all(this.now()) as Row[]).map(toRecord));
  }

  async claim(id: string, holder: string): Promise<boolean> {
    this.assertOpen();
    return guard(() => this.stmt.claim.run(id, holder).changes === 1);
  }

  subscribe(listener: (event: ApprovalEvent) => void): () => void {
    return this.log.subscribe(approvalEventsOnly(listener));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
    this.connection.release();
  }

  /** This process's subscribers hear of a write at once; other processes by polling. */
  private pumpQuietly(): void {
    try {
      this.log.pump();
    } catch {
      // the poller catches up from the same cursor
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("sqlite approval store is closed");
  }
}
