import type { QueryConfig, QueryResult } from "pg";
import { runWithDeadline } from "../deadline.js";
import type { SqlExecutor } from "../sql/driver.js";
import { applyMissingMigrations } from "../sql/migrations.js";
import { numbered, PostgresSchemaError, type PostgresDriver } from "./database.js";

/**
 * The PostgreSQL schema as an ordered list of migrations; `schema_migrations` records which ran. Never edit a released
 * migration: append a new one. `sql` gets a function that schema-qualifies a table name.
 */
export interface PostgresMigration {
  version: number;
  description: string;
  sql: (table: (name: string) => string) => string;
}

export const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: "pairing (pending, paired, cooldowns, redeem failures, audit log), session bindings and API tokens",
    sql: (t) => `
      -- Pending entries. hash = HMAC of (channel type, code): invites keep no code, only this hash and a mask in
      -- display; requests show their code in display (it is only a reference the owner approves).
      -- seq keeps creation order for entries created in the same millisecond.
      CREATE TABLE ${t("pending")} (
        hash          text PRIMARY KEY,
        seq           bigserial NOT NULL,
        kind          text NOT NULL CHECK (kind IN ('request', 'invite')),
        channel_type  text NOT NULL,
        channel_id    text NOT NULL,
        user_name     text NOT NULL,
        first_message bytea NOT NULL,  -- UTF-8; bytea because a chat message may hold U+0000, which text cannot
        display       text NOT NULL,
        created_at    bigint NOT NULL,
        expires_at    bigint NOT NULL,
        failures      integer NOT NULL DEFAULT 0
      );
      CREATE INDEX pending_sender ON ${t("pending")} (channel_type, channel_id) WHERE kind = 'request';
      CREATE INDEX pending_live ON ${t("pending")} (channel_type, expires_at);
      CREATE INDEX pending_expiry ON ${t("pending")} (expires_at);

      -- isPaired is a primary-key lookup.
      CREATE TABLE ${t("paired")} (
        channel_type text NOT NULL,
        channel_id   text NOT NULL,
        seq          bigserial NOT NULL,
        label        text NOT NULL,
        paired_at    bigint NOT NULL,
        approved_by  text NOT NULL,
        PRIMARY KEY (channel_type, channel_id)
      );
      CREATE INDEX paired_order ON ${t("paired")} (paired_at, seq);

      -- A denied sender may not ask again until "until".
      CREATE TABLE ${t("deny_cooldowns")} (
        channel_type text NOT NULL,
        channel_id   text NOT NULL,
        until        bigint NOT NULL,
        PRIMARY KEY (channel_type, channel_id)
      );

      -- Failed redemptions per (channel type, redeemer) in the current window, and the lockout they caused.
      CREATE TABLE ${t("redeem_failures")} (
        channel_type text NOT NULL,
        redeemer     text NOT NULL,
        window_start bigint NOT NULL,
        count        integer NOT NULL,
        locked_until bigint NOT NULL,
        PRIMARY KEY (channel_type, redeemer)
      );

      -- Append-only decisions; each insert notifies "<schema>.audit" with the id when it commits.
      CREATE TABLE ${t("audit")} (
        id           bigserial PRIMARY KEY,
        at           bigint NOT NULL,
        type         text NOT NULL,
        channel_type text NOT NULL,
        channel_id   text NOT NULL,
        actor        text NOT NULL,
        kind         text,
        detail       json NOT NULL
      );

      CREATE TABLE ${t("sessions")} (
        session_id text PRIMARY KEY,
        principal  text NOT NULL,
        last_seen  bigint NOT NULL
      );
      CREATE INDEX sessions_last_seen ON ${t("sessions")} (last_seen);

      -- API tokens: only the SHA-256 hash of a token is kept.
      CREATE TABLE ${t("api_tokens")} (
        id         text PRIMARY KEY,
        hash       text NOT NULL UNIQUE,
        role       text NOT NULL,
        user_id    text NOT NULL,
        label      text NOT NULL DEFAULT '',
        created_at bigint NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: "seen-once keys with an expiry (webhook de-duplication)",
    sql: (t) => `
      CREATE TABLE ${t("seen_once")} (
        key        text PRIMARY KEY,
        expires_at bigint NOT NULL
      );
      CREATE INDEX seen_once_expires ON ${t("seen_once")} (expires_at);
    `,
  },
  {
    version: 3,
    description: "meta: the fingerprint of the gateway secret the schema was first opened with",
    sql: (t) => `CREATE TABLE ${t("meta")} (key text PRIMARY KEY, value text NOT NULL);`,
  },
  {
    version: 4,
    description: "leases with fencing tokens (one owner per platform connection) and instance heartbeats",
    sql: (t) => `
      CREATE TABLE ${t("leases")} (
        name         text PRIMARY KEY,
        holder       text NOT NULL,
        token        bigint NOT NULL,
        expires_at   bigint NOT NULL,
        cursor_value text
      );
    `,
  },
  {
    version: 5,
    description:
      "approvals, conversations and rate budgets; IF NOT EXISTS because each store created its table at open before",
    sql: (t) => `
      CREATE TABLE IF NOT EXISTS ${t("approvals")} (
        id text PRIMARY KEY, ref text NOT NULL UNIQUE, requester text NOT NULL, tool text NOT NULL,
        arguments json NOT NULL, risk text NOT NULL, agent text NOT NULL, session text NOT NULL, context json NOT NULL,
        created_at bigint NOT NULL, expires_at bigint NOT NULL, status text NOT NULL,
        decided_at bigint, approver text, reason text);
      CREATE INDEX IF NOT EXISTS approvals_pending ON ${t("approvals")} (created_at) WHERE status = 'pending';
      CREATE TABLE IF NOT EXISTS ${t("approval_claims")} (id text NOT NULL, holder text NOT NULL, PRIMARY KEY (id, holder));
      CREATE TABLE IF NOT EXISTS ${t("conversations")} (session_id text PRIMARY KEY, record text NOT NULL, expires_at bigint NOT NULL);
      CREATE INDEX IF NOT EXISTS conversations_expires ON ${t("conversations")} (expires_at);
      CREATE TABLE IF NOT EXISTS ${t("rate_budgets")} (key text PRIMARY KEY, arrival double precision NOT NULL);
    `,
  },
];

/** Migrations get a deadline of their own: they may wait for another instance that is migrating. */
const MIGRATION_TIMEOUT_MS = 30_000;

/**
 * Creates the schema when missing and applies the migrations it lacks, all in one transaction under an advisory
 * transaction lock for this schema, so two instances starting at once never both migrate: the second waits, then sees
 * the work done. A schema migrated by a newer gatehouse is refused.
 */
export async function migrate(
  db: PostgresDriver,
  migrations: readonly PostgresMigration[] = MIGRATIONS,
): Promise<void> {
  await runWithDeadline("postgres", MIGRATION_TIMEOUT_MS + db.timeoutMs, () =>
    db.withClient(async (client) => {
      // BEGIN answers within the usual deadline (a hung server is noticed fast); waiting for another instance's
      // migration and running ours get the longer one.
      const slow: RunSql = (text, values = []) =>
        client.query({ text, values, query_timeout: MIGRATION_TIMEOUT_MS } as QueryConfig<unknown[]>);
      await client.query("BEGIN");
      try {
        await client.query(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
        await slow("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`gatehouse:migrate:${db.schema}`]);
        await applyMissing(slow, db, migrations);
        await slow("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
    }),
  ).catch((error: unknown) => {
    throw db.failure(error);
  });
}

type RunSql = (text: string, values?: unknown[]) => Promise<QueryResult>;

async function applyMissing(run: RunSql, db: PostgresDriver, migrations: readonly PostgresMigration[]): Promise<void> {
  const exists = await run("SELECT 1 FROM pg_namespace WHERE nspname = $1", [db.schema]);
  if (exists.rowCount === 0) await run(`CREATE SCHEMA "${db.schema}"`);
  await run(
    `CREATE TABLE IF NOT EXISTS ${db.table("schema_migrations")} (
       version     integer PRIMARY KEY,
       description text NOT NULL,
       applied_at  timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const query = (text: string, values: readonly unknown[] = []) => run(numbered(text), [...values]);
  const sql: SqlExecutor = {
    execute: async (text, values) => (await query(text, values)).rowCount ?? 0,
    get: async <T>(text: string, values?: readonly unknown[]) => ((await query(text, values)).rows[0] as T) ?? null,
    all: async <T>(text: string, values?: readonly unknown[]) => (await query(text, values)).rows as T[],
  };
  await applyMissingMigrations(
    sql,
    db.table("schema_migrations"),
    migrations,
    (migration) => run(migration.sql((name) => db.table(name))),
    (newest, latest) =>
      new PostgresSchemaError(
        `postgres schema "${db.schema}" was migrated to version ${newest} by a newer gatehouse; this one knows up to ${latest}. Upgrade gatehouse.`,
      ),
  );
}
