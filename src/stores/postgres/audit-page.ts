import { auditLimit } from "../shared.js";
import type { AuditEvent, AuditPage, AuditQuery } from "../types.js";
import { selectAudit, toAuditEvent, type AuditRow } from "./audit-feed.js";
import { storable, type PostgresDatabase } from "./database.js";

/** One page of the audit log in id order, filtered and paged like the reference store. */
export async function readAuditPage(db: PostgresDatabase, query?: AuditQuery): Promise<AuditPage> {
  const limit = auditLimit(query);
  const after = auditCursor(query?.after);
  // A filter PostgreSQL cannot even hold as text (U+0000) matches nothing.
  if (after === null || !storable(query?.type) || !storable(query?.channelType)) return { events: [], next: null };
  return db.call(async () => {
    const rows = await db.query<AuditRow>(
      `${selectAudit(db)}
       WHERE a.id > $1 AND ($2::text IS NULL OR a.type = $2) AND ($3::text IS NULL OR a.channel_type = $3)
       ORDER BY a.id LIMIT $4`,
      // Like the reference: an empty filter is no filter.
      [after, query?.type || null, query?.channelType || null, limit + 1],
    );
    const events: AuditEvent[] = rows.rows.slice(0, limit).map(toAuditEvent);
    const last = events.at(-1);
    return { events, next: rows.rows.length > limit && last ? last.id : null };
  });
}

/** The `after` cursor as a bigint literal, like the reference's `Number(after)`; null when nothing can follow it. */
function auditCursor(after: string | undefined): string | null {
  if (after === undefined) return "0";
  const value = Number(after);
  if (Number.isNaN(value) || value >= Number.MAX_SAFE_INTEGER) return null;
  return String(Math.max(0, Math.floor(value)));
}
