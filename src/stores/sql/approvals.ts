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
import { SqlAuditLog } from "./audit.js";
import { sqlCall, type SqlDriver, type SqlExecutor } from "./driver.js";

const COLUMNS =
  "id, ref, requester, tool, arguments, risk, agent, session, context, created_at, expires_at, status, decided_at, approver, reason";

/** Rows keep arguments and context as JSON text. */
const toRecord = (row: ApprovalRow): ApprovalRecord => approvalFromRow(row, (text) => parseJsonField(text as string));

/**
 * Approval requests over any SQL driver (tables `approvals` and `approval_claims`), shared by every instance. Every
 * create, decide and claim reads and writes in one transaction holding the store's write lock, so of racing decisions
 * exactly one changes the row, and its audit event is appended in the same step; other instances hear of it by polling
 * the audit table.
 */
export class SqlApprovalStore implements ApprovalStore {
  private readonly log: SqlAuditLog;
  private readonly now: () => number;
  private readonly table: string;
  private readonly claims: string;
  private closed = false;

  constructor(
    private readonly driver: SqlDriver,
    options: ApprovalStoreOptions = {},
  ) {
    this.log = new SqlAuditLog(driver);
    this.now = options.now ?? Date.now;
    this.table = driver.dialect.table("approvals");
    this.claims = driver.dialect.table("approval_claims");
  }

  async create(input: NewApproval): Promise<{ created: boolean; record: ApprovalRecord }> {
    const now = this.now();
    return this.write(async (tx) => {
      await tx.execute(`DELETE FROM ${this.table} WHERE expires_at < ?`, [now - APPROVAL_RETENTION_MS]);
      await tx.execute(`DELETE FROM ${this.claims} WHERE id NOT IN (SELECT id FROM ${this.table})`);
      const existing = await this.byId(tx, input.id);
      if (existing) return { created: false, record: approvalView(existing, now) };
      let record = newApprovalRecord(input, now);
      while (await this.byRef(tx, record.ref)) record = newApprovalRecord(input, now);
      await tx.execute(
        `INSERT INTO ${this.table} (id, ref, requester, tool, arguments, risk, agent, session, context, created_at, expires_at, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
        [
          record.id,
          record.ref,
          record.requester,
          record.tool,
          JSON.stringify(record.arguments),
          record.risk,
          record.agent,
          record.session,
          JSON.stringify(record.context),
          record.createdAt,
          record.expiresAt,
        ],
      );
      await this.log.append(tx, approvalAuditEvent(record, "requested", record.requester, now));
      return { created: true, record };
    });
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    this.assertOpen();
    const record = await sqlCall(this.driver, () => this.byId(this.driver, id));
    return record ? approvalView(record, this.now()) : null;
  }

  async getByRef(ref: string): Promise<ApprovalRecord | null> {
    this.assertOpen();
    const record = await sqlCall(this.driver, () => this.byRef(this.driver, ref));
    return record ? approvalView(record, this.now()) : null;
  }

  async decide(id: string, decision: ApprovalDecision): Promise<DecideResult> {
    const now = this.now();
    return this.write(async (tx): Promise<DecideResult> => {
      const current = await this.byId(tx, id);
      if (!current) return { won: false, record: null };
      if (!isDecidable(current.status, current.expiresAt, decision.outcome, now))
        return { won: false, record: approvalView(current, now) };
      await tx.execute(
        `UPDATE ${this.table} SET status = ?, approver = ?, reason = ?, decided_at = ? WHERE id = ? AND status = 'pending'`,
        [decision.outcome, decision.approver, decision.reason, now, id],
      );
      const record: ApprovalRecord = {
        ...current,
        status: decision.outcome,
        approver: decision.approver,
        reason: decision.reason,
        decidedAt: now,
      };
      await this.log.append(tx, approvalAuditEvent(record, decision.outcome, decision.approver, now));
      return { won: true, record };
    });
  }

  async listPending(): Promise<ApprovalRecord[]> {
    this.assertOpen();
    const rows = await sqlCall(this.driver, () =>
      this.driver.all<ApprovalRow>(
        `SELECT ${COLUMNS} FROM ${this.table} WHERE status = 'pending' AND expires_at > ? ORDER BY created_at, ${this.driver.dialect.approvalOrder}`,
        [this.now()],
      ),
    );
    return rows.map(toRecord);
  }

  async claim(id: string, holder: string): Promise<boolean> {
    return this.write(async (tx) => {
      if (await tx.get(`SELECT 1 AS x FROM ${this.claims} WHERE id = ? AND holder = ?`, [id, holder])) return false;
      await tx.execute(`INSERT INTO ${this.claims} (id, holder) VALUES (?, ?)`, [id, holder]);
      return true;
    });
  }

  subscribe(listener: (event: ApprovalEvent) => void): () => void {
    // Like the other stores, subscribing to a closed store is allowed and simply never fires.
    if (this.closed) return () => undefined;
    return this.log.subscribe(approvalEventsOnly(listener));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.log.close();
  }

  /** One write transaction under the store's write lock; its audit events then reach this process's subscribers. */
  private async write<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    this.assertOpen();
    const result = await sqlCall(this.driver, async (deadline) => {
      await this.log.ready();
      return this.driver.write(work, deadline);
    });
    void this.log.pump();
    return result;
  }

  private async byId(on: SqlExecutor, id: string): Promise<ApprovalRecord | null> {
    const row = await on.get<ApprovalRow>(`SELECT ${COLUMNS} FROM ${this.table} WHERE id = ?`, [id]);
    return row ? toRecord(row) : null;
  }

  private async byRef(on: SqlExecutor, ref: string): Promise<ApprovalRecord | null> {
    const row = await on.get<ApprovalRow>(`SELECT ${COLUMNS} FROM ${this.table} WHERE ref = ?`, [ref]);
    return row ? toRecord(row) : null;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this.driver.backend} approval store is closed`);
  }
}
