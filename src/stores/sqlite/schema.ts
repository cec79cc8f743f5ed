/**
 * The SQLite schema, as an ordered list of migrations. The database's `PRAGMA user_version` records the last one
 * applied; each runs in its own `BEGIN IMMEDIATE` transaction (see migrations.ts). Never edit a released migration:
 * append a new one.
 */
/** The api_tokens table as migration 2 creates it (IF NOT EXISTS: the token store created it before migrations did). */
const API_TOKENS_SCHEMA = `
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  role TEXT NOT NULL,
  user_id TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_hash ON api_tokens (hash);
`;

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** `PRAGMA application_id` of a gatehouse database ("GHSE"), so a foreign SQLite file is never mistaken for ours. */
export const GATEHOUSE_APPLICATION_ID = 0x47485345;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "pairing (pending, paired, cooldowns, redeem failures, audit log) and session bindings",
    sql: `
      -- Pending entries. hash = HMAC of (channel type, code): invites keep no code at all, only this hash and a mask
      -- in display; requests show their code in display (it is only a reference the owner approves).
      -- seq = id of the audit event that created the row: the insertion order, which breaks ties like the reference.
      -- Few, narrow b-trees on purpose: every page a write touches is a page written to the WAL.
      CREATE TABLE pending (
        hash          TEXT PRIMARY KEY,
        seq           INTEGER NOT NULL,
        kind          TEXT NOT NULL CHECK (kind IN ('request', 'invite')),
        channel_type  TEXT NOT NULL,
        channel_id    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        failures      INTEGER NOT NULL DEFAULT 0,
        display       TEXT NOT NULL,
        user_name     TEXT NOT NULL,
        first_message TEXT NOT NULL
      ) WITHOUT ROWID;
      -- At most one pending request per sender.
      CREATE UNIQUE INDEX pending_request_sender ON pending (channel_type, channel_id) WHERE kind = 'request';
      CREATE INDEX pending_expiry ON pending (expires_at);

      -- isPaired is one lookup in this table's primary key. seq: as in pending (kept when a pairing is renewed).
      CREATE TABLE paired (
        channel_type TEXT NOT NULL,
        channel_id   TEXT NOT NULL,
        label        TEXT NOT NULL,
        paired_at    INTEGER NOT NULL,
        approved_by  TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        PRIMARY KEY (channel_type, channel_id)
      ) WITHOUT ROWID;

      -- A denied sender may not ask again until "until".
      CREATE TABLE deny_cooldowns (
        channel_type TEXT NOT NULL,
        channel_id   TEXT NOT NULL,
        until        INTEGER NOT NULL,
        PRIMARY KEY (channel_type, channel_id)
      ) WITHOUT ROWID;

      -- Failed redemptions per (channel type, redeemer) in the current window, and the lockout they caused.
      CREATE TABLE redeem_failures (
        channel_type TEXT NOT NULL,
        redeemer     TEXT NOT NULL,
        window_start INTEGER NOT NULL,
        count        INTEGER NOT NULL,
        locked_until INTEGER NOT NULL,
        PRIMARY KEY (channel_type, redeemer)
      ) WITHOUT ROWID;

      -- Append-only decisions, never deleted, so ids only grow (no AUTOINCREMENT needed) and pollers can follow them.
      -- Filtered pages scan by id: no secondary indexes, so each decision costs one page write here.
      CREATE TABLE audit (
        id           INTEGER PRIMARY KEY,
        at           INTEGER NOT NULL,
        type         TEXT NOT NULL,
        channel_type TEXT NOT NULL,
        channel_id   TEXT NOT NULL,
        actor        TEXT NOT NULL,
        kind         TEXT,
        detail       TEXT NOT NULL
      );

      CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        principal  TEXT NOT NULL,
        last_seen  INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: "API tokens (hashes only); IF NOT EXISTS because tokens.ts created this table before migrations did",
    // The one definition of the table lives beside the token store; it is written with IF NOT EXISTS.
    sql: API_TOKENS_SCHEMA,
  },
  {
    version: 3,
    description: "drop pending_expiry: one page less written per request, approval and denial",
    // The pending table holds at most the cap per channel type, so the sweep finds expired entries by scanning it
    // (a few pages) instead of keeping an index that every insert and delete of a pending entry had to write too.
    sql: "DROP INDEX IF EXISTS pending_expiry;",
  },
  {
    version: 4,
    description: "meta: the fingerprint of the gateway secret the store was first opened with",
    sql: "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
  },
  {
    version: 5,
    description: "leases with fencing tokens (one owner per platform connection) and instance heartbeats",
    sql: `CREATE TABLE leases (
      name TEXT PRIMARY KEY, holder TEXT NOT NULL, token INTEGER NOT NULL, expires_at INTEGER NOT NULL, cursor_value TEXT
    ) WITHOUT ROWID;`,
  },
  {
    version: 6,
    description:
      "approvals, rate budgets, seen-once keys and conversations; IF NOT EXISTS because each store created its table at open before",
    sql: `
      -- arguments and context are JSON text. Approvals of the same millisecond keep their insertion order by rowid.
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
      CREATE TABLE IF NOT EXISTS rate_budgets (
        key TEXT PRIMARY KEY,
        arrival REAL NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS seen_once (
        key TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS seen_once_expires ON seen_once (expires_at);
      CREATE TABLE IF NOT EXISTS conversations (
        session_id TEXT PRIMARY KEY,
        record TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS conversations_expires ON conversations (expires_at);
    `,
  },
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
