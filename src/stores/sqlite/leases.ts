import type { Database } from "better-sqlite3";
import { leaseStoreOver, type LeaseState, type LeaseStore } from "../lease.js";
import type { Clock } from "../events.js";
import { guard } from "./connection.js";

interface LeaseRow {
  name: string;
  holder: string;
  token: number;
  expires_at: number;
  cursor_value: string | null;
}

function stateOf(row: LeaseRow | undefined): LeaseState | null {
  return row ? { name: row.name, holder: row.holder, token: row.token, expiresAt: row.expires_at, cursor: row.cursor_value } : null;
}

/**
 * Leases in the gateway's SQLite file (table from migration 5): each step reads and writes its row in one
 * `BEGIN IMMEDIATE` transaction, so of several processes on this host exactly one acquires (the rules are lease.ts's).
 */
export function createSqliteLeaseStore(db: Database, now: Clock = Date.now): LeaseStore {
  const select = db.prepare<[string], LeaseRow>("SELECT name, holder, token, expires_at, cursor_value FROM leases WHERE name = ?");
  const live = db.prepare<[number], LeaseRow>("SELECT name, holder, token, expires_at, cursor_value FROM leases WHERE expires_at > ?");
  const upsert = db.prepare(
    `INSERT INTO leases (name, holder, token, expires_at, cursor_value) VALUES (@name, @holder, @token, @expiresAt, @cursor)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at,
       cursor_value = excluded.cursor_value`,
  );
  const step = db.transaction((name: string, decide: (stored: LeaseState | null) => LeaseState | null) => {
    const next = decide(stateOf(select.get(name)));
    if (next) upsert.run(next);
    return next;
  });
  return leaseStoreOver(
    {
      atomically: async (name, decide) => guard(() => step.immediate(name, decide)),
      read: async (name) => guard(() => stateOf(select.get(name))),
      liveAfter: async (at) => guard(() => live.all(at).map((row) => stateOf(row)!)),
    },
    now,
  );
}
