import { leaseStoreOver, type LeaseState, type LeaseStore } from "../lease.js";
import type { Clock } from "../events.js";
import type { PostgresDatabase } from "./database.js";

interface LeaseRow {
  name: string;
  holder: string;
  token: string;
  expires_at: string;
  cursor_value: string | null;
}

function stateOf(row: LeaseRow | undefined): LeaseState | null {
  return row
    ? { name: row.name, holder: row.holder, token: Number(row.token), expiresAt: Number(row.expires_at), cursor: row.cursor_value }
    : null;
}

/**
 * Leases in the shared PostgreSQL schema (table from migration 4): each step reads and writes its row in one
 * transaction under an advisory lock on the lease's name, so of racing instances exactly one acquires and a stale
 * token is refused (the rules are lease.ts's).
 */
export function createPostgresLeaseStore(db: PostgresDatabase, now: Clock = Date.now): LeaseStore {
  const table = db.table("leases");
  const select = `SELECT name, holder, token, expires_at, cursor_value FROM ${table}`;
  const byName = `${select} WHERE name = $1`;
  return leaseStoreOver(
    {
      atomically: (name, decide) =>
        db.call((deadline) =>
          db.withClient((client) =>
            db.transaction(
              client,
              `lease:${name}`,
              async (tx) => {
                const next = decide(stateOf((await tx.query<LeaseRow>(byName, [name])).rows[0]));
                if (next) {
                  await tx.query(
                    `INSERT INTO ${table} (name, holder, token, expires_at, cursor_value) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, token = EXCLUDED.token,
                       expires_at = EXCLUDED.expires_at, cursor_value = EXCLUDED.cursor_value`,
                    [next.name, next.holder, next.token, next.expiresAt, next.cursor],
                  );
                }
                return next;
              },
              deadline,
            ),
          ),
        ),
      read: (name) => db.call(async () => stateOf((await db.query<LeaseRow>(byName, [name])).rows[0])),
      liveAfter: (at) => db.call(async () => (await db.query<LeaseRow>(`${select} WHERE expires_at > $1`, [at])).rows.map((row) => stateOf(row)!)),
    },
    now,
  );
}
