import {
  approvalAuditEvent,
  approvalEventsOnly,
  approvalFromRow,
  approvalView,
  isDecidable,
  newApprovalRecord,
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
import { AuditFeed } from "./audit-feed.js";
import type { PostgresDatabase, Queryable } from "./database.js";

type Row = ApprovalRow;
const toRecord = (row: Row): ApprovalRecord => approvalFromRow(row);

/** Both tables, created under an advisory lock so instances starting together do not race on CREATE. */
async function createTables(db: PostgresDatabase): Promise<void> {
  const t = (name: string): string => db.table(name);
  await db.call(() =>
    db.withClient((client) =>
      db.transaction(client, "approvals:schema", async (tx) => {
        await tx.query(`CREATE TABLE IF NOT EXISTS ${t("approvals")} (
          id text PRIMARY KEY, ref text NOT NULL UNIQUE, requester text NOT NULL, tool text NOT NULL,
          arguments json NOT NULL, risk text NOT NULL, agent text NOT NULL, session text NOT NULL, context json NOT NULL,
          created_at bigint NOT NULL, expires_at bigint NOT NULL, status text NOT NULL,
          decided_at bigint, approver text, reason text)`);
        await tx.query(`CREATE INDEX IF NOT EXISTS approvals_pending ON ${t("approvals")} (created_at) WHERE status = 'pending'`);
        await tx.query(`CREATE TABLE IF NOT EXISTS ${t("approval_claims")} (id text NOT NULL, holder text NOT NULL, PRIMARY KEY (id, holder))`);
      }),
    ),
  );
}

/**
 * Approval requests in the shared PostgreSQL schema. A decision is one conditional UPDATE (`status = 'pending'`) with
 * its audit row in the same transaction: row locking makes exactly one of racing decisions change it, on any instance.
 * Other instances hear of it through the audit table's NOTIFY.
 */
export class PostgresApprovalStore implements ApprovalStore {
  private readonly feed: AuditFeed;
  private readonly now: () => number;
  private readonly table: string;
  private readonly claims: string;

  private constructor(
    private readonly db: PostgresDatabase,
    options: ApprovalStoreOptions,
  ) {
    this.feed = new AuditFeed(db);
    this.now = options.now ?? Date.now;
    this.table = db.table("approvals");
    this.claims = db.table("approval_claims");
  }

  static async open(db: PostgresDatabase, options: ApprovalStoreOptions = {}): Promise<PostgresApprovalStore> {
    await createTables(db);
    return new PostgresApprovalStore(db, options);
  }

  async create(input: NewApproval): Promise<{ created: boolean; record: ApprovalRecord }> {
    const now = this.now();
    return this.db.call(() =>
      this.db.withClient((client) =>
        this.db.transaction(client, `approval:${input.id}`, async (tx) => {
          await tx.query(`DELETE FROM ${this.table} WHERE expires_at < $1`, [now - APPROVAL_RETENTION_MS]);
          const existing = await this.byId(tx, input.id);
          if (existing) return { created: false, record: approvalView(existing, now) };
          for (;;) {
            const record = newApprovalRecord(input, now);
            const inserted = await tx.query(
              `INSERT INTO ${this.table} (id, ref, requester, tool, arguments, risk, agent, session, context, created_at, expires_at, status)
               VALUES ($1, $2, $3, $4, $5::json, $6, $7, $8, $9::json, $10, $11, 'pending') ON CONFLICT (ref) DO NOTHING`,
              [record.id, record.ref, record.requester, record.tool, JSON.stringify(record.arguments), record.risk, record.agent,
                record.session, JSON.stringify(record.context), record.createdAt, record.expiresAt],
            );
            if (inserted.rowCount !== 1) continue;
            await this.db.appendAudit(tx, approvalAuditEvent(record, "requested", record.requester, now));
            return { created: true, record };
          }
        }),
      ),
    );
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    const record = await this.db.call(() => this.byId(this.db.pool, id));
    return record ? approvalView(record, this.now()) : null;
  }

  async getByRef(ref: string): Promise<ApprovalRecord | null> {
    const rows = await this.db.call(() => this.db.query<Row>(`SELECT * FROM ${this.table} WHERE ref = $1`, [ref], true));
    return rows.rows[0] ? approvalView(toRecord(rows.rows[0]), this.now()) : null;
  }

  async decide(id: string, decision: ApprovalDecision): Promise<DecideResult> {
    const now = this.now();
    return this.db.call(() =>
      this.db.withClient((client) =>
        this.db.transaction(client, null, async (tx) => {
          const rows = await tx.query<Row>(`SELECT * FROM ${this.table} WHERE id = $1 FOR UPDATE`, [id]);
          const row = rows.rows[0];
          if (!row) return { won: false, record: null };
          const current = toRecord(row);
          if (!isDecidable(current.status, current.expiresAt, decision.outcome, now)) {
            return { won: false, record: approvalView(current, now) };
          }
          await tx.query(`UPDATE ${this.table} SET status = $2, approver = $3, reason = $4, decided_at = $5 WHERE id = $1`, [
            id, decision.outcome, decision.approver, decision.reason, now,
          ]);
          const record: ApprovalRecord = { ...current, status: decision.outcome, approver: decision.approver, reason: decision.reason, decidedAt: now };
          await this.db.appendAudit(tx, approvalAuditEvent(record, decision.outcome, decision.approver, now));
          return { won: true, record };
        }),
      ),
    );
  }

  async listPending(): Promise<ApprovalRecord[]> {
    const rows = await this.db.call(() =>
      this.db.query<Row>(`SELECT * FROM ${this.table} WHERE status = 'pending' AND expires_at > $1 ORDER BY created_at, id`, [this.now()]),
    );
    return rows.rows.map(toRecord);
  }

  async claim(id: string, holder: string): Promise<boolean> {
    const inserted = await this.db.call(() =>
      this.db.query(`INSERT INTO ${this.claims} (id, holder) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [id, holder]),
    );
    return inserted.rowCount === 1;
  }

  subscribe(listener: (event: ApprovalEvent) => void): () => void {
    return this.feed.subscribe(approvalEventsOnly(listener));
  }

  async close(): Promise<void> {
    await this.feed.close();
  }

  private async byId(on: Queryable, id: string): Promise<ApprovalRecord | null> {
    const rows = await on.query<Row>(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    return rows.rows[0] ? toRecord(rows.rows[0]) : null;
  }
}
