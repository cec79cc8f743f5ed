import type { PostgresDatabase, Queryable } from "./database.js";

/**
 * Deletes every expired entry and records an `expired` event for each, in one statement. Rows another process is
 * sweeping (locked) are skipped, so two sweeps never wait on each other and each expiry is recorded once.
 */
export async function sweepExpired(db: PostgresDatabase, client: Queryable, now: number): Promise<void> {
  await client.query(
    `WITH gone AS (
       DELETE FROM ${db.table("pending")} WHERE hash IN (
         SELECT hash FROM ${db.table("pending")} WHERE expires_at <= $1 FOR UPDATE SKIP LOCKED
       ) RETURNING channel_type, channel_id, kind, seq
     ), ins AS (
       INSERT INTO ${db.table("audit")} (at, type, channel_type, channel_id, actor, kind, detail)
       SELECT $1, 'expired', channel_type, channel_id, 'system', kind, '{}'::json FROM gone ORDER BY seq
       RETURNING id
     )
     SELECT pg_notify($2, id::text) FROM ins`,
    [now, db.channel],
  );
}
