/**
 * The MariaDB/MySQL tables: the SQL stores' layout (see src/stores/sql/), every name under the table prefix. Text is
 * utf8mb4 with a binary, no-pad collation, so ids compare exactly as given (no case folding, trailing spaces count).
 * `schema_migrations` records which versions ran; never edit a released one: append.
 */
export interface MariaDbMigration {
  version: number;
  description: string;
  /** `options` ends every CREATE TABLE: the engine, utf8mb4 and the server's binary no-pad collation. */
  statements: (table: (name: string) => string, options: string) => string[];
}

export const MIGRATIONS: readonly MariaDbMigration[] = [
  {
    version: 1,
    description: "pairing, sessions, API tokens, the write lock and the secret fingerprint",
    statements: (t, options) => [
      // The one row every write transaction locks (FOR UPDATE): writers take turns, like SQLite's BEGIN IMMEDIATE.
      `CREATE TABLE ${t("locks")} (name VARCHAR(32) PRIMARY KEY) ${options}`,
      `INSERT INTO ${t("locks")} (name) VALUES ('write')`,
      `CREATE TABLE ${t("meta")} (name VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL) ${options}`,
      // hash = HMAC of (channel type, code): invites keep no code; requests show theirs in display.
      `CREATE TABLE ${t("pending")} (
        hash CHAR(64) PRIMARY KEY, seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE, kind VARCHAR(8) NOT NULL,
        channel_type VARCHAR(64) NOT NULL, channel_id VARCHAR(256) NOT NULL, user_name VARCHAR(256) NOT NULL,
        first_message LONGBLOB NOT NULL, display VARCHAR(16) NOT NULL, created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL, failures INT NOT NULL DEFAULT 0,
        KEY pending_sender (channel_type, channel_id), KEY pending_expiry (expires_at)
      ) ${options}`,
      // isPaired is one primary-key lookup; seq keeps the first pairing's place when a pairing is renewed.
      `CREATE TABLE ${t("paired")} (
        channel_type VARCHAR(64) NOT NULL, channel_id VARCHAR(256) NOT NULL, seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE,
        label VARCHAR(256) NOT NULL, paired_at BIGINT NOT NULL, approved_by VARCHAR(256) NOT NULL,
        PRIMARY KEY (channel_type, channel_id)
      ) ${options}`,
      `CREATE TABLE ${t("deny_cooldowns")} (
        channel_type VARCHAR(64) NOT NULL, channel_id VARCHAR(256) NOT NULL, until BIGINT NOT NULL,
        PRIMARY KEY (channel_type, channel_id)
      ) ${options}`,
      `CREATE TABLE ${t("redeem_failures")} (
        channel_type VARCHAR(64) NOT NULL, redeemer VARCHAR(256) NOT NULL, window_start BIGINT NOT NULL,
        count INT NOT NULL, locked_until BIGINT NOT NULL, PRIMARY KEY (channel_type, redeemer)
      ) ${options}`,
      // Appended only inside write transactions, so ids grow in commit order and pollers miss nothing.
      `CREATE TABLE ${t("audit")} (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, at BIGINT NOT NULL, type VARCHAR(32) NOT NULL,
        channel_type VARCHAR(64) NOT NULL, channel_id VARCHAR(256) NOT NULL, actor VARCHAR(256) NOT NULL,
        kind VARCHAR(8) NULL, detail MEDIUMTEXT NOT NULL
      ) ${options}`,
      `CREATE TABLE ${t("sessions")} (
        session_id VARCHAR(256) PRIMARY KEY, principal MEDIUMTEXT NOT NULL, last_seen BIGINT NOT NULL,
        KEY sessions_last_seen (last_seen)
      ) ${options}`,
      `CREATE TABLE ${t("api_tokens")} (
        id VARCHAR(256) PRIMARY KEY, hash CHAR(64) NOT NULL UNIQUE, role VARCHAR(64) NOT NULL,
        user_id VARCHAR(256) NOT NULL, label VARCHAR(256) NOT NULL DEFAULT '', created_at BIGINT NOT NULL
      ) ${options}`,
    ],
  },
  {
    version: 2,
    description: "rate budgets and seen-once keys, shared by every instance",
    statements: (t, options) => [
      `CREATE TABLE ${t("rate_budgets")} (name VARCHAR(200) PRIMARY KEY, arrival DOUBLE NOT NULL) ${options}`,
      `CREATE TABLE ${t("seen_once")} (name VARCHAR(512) PRIMARY KEY, expires_at BIGINT NOT NULL, KEY seen_once_expires (expires_at))
       ${options}`,
    ],
  },
  {
    version: 3,
    description: "agents' approval requests and conversation memory",
    statements: (t, options) => [
      // arguments and context are JSON text; requests are bounded by the gateway (ids 128, tools 200 characters).
      `CREATE TABLE ${t("approvals")} (
          id VARCHAR(256) PRIMARY KEY, seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE, ref CHAR(8) NOT NULL UNIQUE,
          requester TEXT NOT NULL, tool TEXT NOT NULL, arguments MEDIUMTEXT NOT NULL, risk TEXT NOT NULL, agent TEXT NOT NULL,
          session TEXT NOT NULL, context MEDIUMTEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
          status VARCHAR(8) NOT NULL, decided_at BIGINT NULL, approver TEXT NULL, reason TEXT NULL,
          KEY approvals_pending (status, created_at), KEY approvals_expiry (expires_at)
      ) ${options}`,
      `CREATE TABLE ${t("approval_claims")} (
          id VARCHAR(256) NOT NULL, holder VARCHAR(256) NOT NULL, PRIMARY KEY (id, holder)
      ) ${options}`,
      `CREATE TABLE ${t("conversations")} (
          session_id VARCHAR(512) PRIMARY KEY, record LONGTEXT NOT NULL, expires_at BIGINT NOT NULL,
          KEY conversations_expiry (expires_at)
      ) ${options}`,
    ],
  },
  {
    version: 4,
    description: "leases with fencing tokens (one owner per platform connection) and instance heartbeats",
    statements: (t, options) => [
      `CREATE TABLE ${t("leases")} (
        name VARCHAR(200) PRIMARY KEY, holder VARCHAR(200) NOT NULL, token BIGINT NOT NULL, expires_at BIGINT NOT NULL,
        cursor_value MEDIUMTEXT NULL, KEY leases_expiry (expires_at)
      ) ${options}`,
    ],
  },
];
