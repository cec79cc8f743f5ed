import {
  approvalAuditEvent,
  approvalAuditType,
  APPROVAL_AUDIT_CHANNEL,
  approvalEventsOnly,
  approvalView,
  newApprovalRecord,
  parseJsonField,
  APPROVAL_RETENTION_MS,
  type ApprovalDecision,
  type ApprovalEvent,
  type ApprovalRecord,
  type ApprovalStore,
  type ApprovalStoreOptions,
  type DecideResult,
  type NewApproval,
} from "../approvals.js";
import { AuditFeed } from "./audit-stream.js";
import type { RedisConnection } from "./connection.js";
import { RedisKeys } from "./keys.js";
import { script } from "./scripts.js";

/**
 * Keys (beside keys.ts's layout):
 *   <p>approval:<id>        string  the record as JSON (arguments and context as JSON text inside), native TTL
 *   <p>approval-ref:<ref>   string  request id of a button reference
 *   <p>approvals:pending    zset    pending request ids, score = createdAt
 *   <p>approval-claim:<id>:<holder>  string  first claim wins (SET NX)
 * Creating and deciding are one script each, with the audit XADD, so a decision is atomic across instances.
 */

/** KEYS: record, ref, pending, stream; ARGV: json, ttl ms, createdAt, audit type, channel, actor, detail, oldest. */
const CREATE = script(
  "approval-create",
  `local existing = redis.call('GET', KEYS[1])
if existing then return {'existing', existing} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'collision'} end
local r = cjson.decode(ARGV[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], r.id, 'PX', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[8])
redis.call('ZADD', KEYS[3], ARGV[3], r.id)
redis.call('XADD', KEYS[4], '*', 'at', ARGV[3], 'type', ARGV[4], 'channelType', ARGV[5], 'channelId', r.id,
  'actor', ARGV[6], 'detail', ARGV[7])
return {'created', ARGV[1]}
`,
);

/** KEYS: record, pending, stream; ARGV: outcome, approver, reason, now, audit type, channel. */
const DECIDE = script(
  "approval-decide",
  `local text = redis.call('GET', KEYS[1])
if not text then return {'missing'} end
local r = cjson.decode(text)
local now = tonumber(ARGV[4])
local due = tonumber(r.expiresAt)
if r.status ~= 'pending' then return {'lost', text} end
if ARGV[1] == 'expired' then
  if now < due then return {'lost', text} end
elseif now >= due then
  return {'lost', text}
end
r.status = ARGV[1]
r.approver = ARGV[2]
r.reason = ARGV[3]
r.decidedAt = now
local out = cjson.encode(r)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
redis.call('ZREM', KEYS[2], r.id)
local detail = cjson.encode({tool = r.tool, risk = r.risk, agent = r.agent, session = r.session, reason = ARGV[3]})
redis.call('XADD', KEYS[3], '*', 'at', ARGV[4], 'type', ARGV[5], 'channelType', ARGV[6], 'channelId', r.id,
  'actor', ARGV[2], 'detail', detail)
return {'won', out}
`,
);

interface Stored extends Omit<ApprovalRecord, "arguments" | "context" | "createdAt" | "expiresAt" | "decidedAt"> {
  arguments: string;
  context: string;
  createdAt: number | string;
  expiresAt: number | string;
  decidedAt: number | string | null;
}

function fromJson(text: string): ApprovalRecord {
  const stored = JSON.parse(text) as Stored;
  return {
    ...stored,
    arguments: parseJsonField(stored.arguments),
    context: parseJsonField(stored.context),
    createdAt: Number(stored.createdAt),
    expiresAt: Number(stored.expiresAt),
    decidedAt: stored.decidedAt === null || stored.decidedAt === undefined ? null : Number(stored.decidedAt),
    approver: stored.approver ?? null,
    reason: stored.reason ?? null,
  };
}

function toJson(record: ApprovalRecord): string {
  return JSON.stringify({
    ...record,
    arguments: JSON.stringify(record.arguments),
    context: JSON.stringify(record.context),
  });
}

/** Approval requests in Redis, shared by every instance; decisions travel on the audit stream. */
export class RedisApprovalStore implements ApprovalStore {
  private readonly keys: RedisKeys;
  private readonly feed: AuditFeed;
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly conn: RedisConnection,
    prefix: string,
    options: ApprovalStoreOptions = {},
  ) {
    this.keys = new RedisKeys(prefix);
    this.feed = new AuditFeed(conn, this.keys.audit);
    this.now = options.now ?? Date.now;
    conn.acquire();
  }

  async create(input: NewApproval): Promise<{ created: boolean; record: ApprovalRecord }> {
    const now = this.now();
    return this.conn.run(async () => {
      for (;;) {
        const record = newApprovalRecord(input, now);
        const audit = approvalAuditEvent(record, "requested", record.requester, now);
        const reply = (await this.conn.eval(
          CREATE,
          [this.record(record.id), this.ref(record.ref), this.pending, this.keys.audit],
          [
            toJson(record),
            String(input.ttlMs + APPROVAL_RETENTION_MS),
            String(now),
            audit.type,
            audit.channelType,
            audit.actor,
            JSON.stringify(audit.detail),
            String(now - APPROVAL_RETENTION_MS),
          ],
        )) as [string, string?];
        if (reply[0] === "collision") continue;
        return { created: reply[0] === "created", record: approvalView(fromJson(String(reply[1])), now) };
      }
    });
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    const text = await this.conn.run(() => this.conn.command(["GET", this.record(id)]));
    return typeof text === "string" ? approvalView(fromJson(text), this.now()) : null;
  }

  async getByRef(ref: string): Promise<ApprovalRecord | null> {
    const id = await this.conn.run(() => this.conn.command(["GET", this.ref(ref)]));
    return typeof id === "string" ? this.get(id) : null;
  }

  async decide(id: string, decision: ApprovalDecision): Promise<DecideResult> {
    const now = this.now();
    const reply = (await this.conn.run(async () => {
      const decided = (await this.conn.eval(
        DECIDE,
        [this.record(id), this.pending, this.keys.audit],
        [
          decision.outcome,
          decision.approver,
          decision.reason,
          String(now),
          approvalAuditType(decision.outcome),
          APPROVAL_AUDIT_CHANNEL,
        ],
      )) as [string, string?];
      // a decision reported won must survive a failover (Sentinel, Cluster: on the replicas first)
      if (decided[0] === "won") await this.conn.replicated();
      return decided;
    })) as [string, string?];
    if (reply[0] === "missing") return { won: false, record: null };
    const record = approvalView(fromJson(String(reply[1])), now);
    return { won: reply[0] === "won", record };
  }

  async listPending(): Promise<ApprovalRecord[]> {
    const now = this.now();
    const ids = await this.conn.run(() => this.conn.command(["ZRANGE", this.pending, "0", "-1"]));
    if (!Array.isArray(ids) || ids.length === 0) return [];
    const texts = await this.conn.run(() => this.conn.command(["MGET", ...ids.map((id) => this.record(String(id)))]));
    return (Array.isArray(texts) ? texts : [])
      .filter((text): text is string => typeof text === "string")
      .map(fromJson)
      .filter((r) => r.status === "pending" && r.expiresAt > now);
  }

  async claim(id: string, holder: string): Promise<boolean> {
    const key = `${this.keys.prefix}approval-claim:${id}:${holder}`;
    const reply = await this.conn.run(() =>
      this.conn.command(["SET", key, "1", "NX", "PX", String(APPROVAL_RETENTION_MS)]),
    );
    return reply === "OK";
  }

  subscribe(listener: (event: ApprovalEvent) => void): () => void {
    return this.feed.subscribe(approvalEventsOnly(listener));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed.close();
    await this.conn.release();
  }

  private record(id: string): string {
    return `${this.keys.prefix}approval:${id}`;
  }

  private ref(ref: string): string {
    return `${this.keys.prefix}approval-ref:${ref}`;
  }

  private get pending(): string {
    return `${this.keys.prefix}approvals:pending`;
  }
}
