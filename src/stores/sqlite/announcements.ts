import type { Database } from "better-sqlite3";
import type { AnnouncementStore, Clock } from "../types.js";
import { SqliteAuditLog } from "./audit-log.js";
import { guard } from "./connection.js";

/** Announcements appended to the audit table; other processes on the file (and this one's pairing store) poll it. */
export function createSqliteAnnouncementStore(db: Database, now: Clock = Date.now): AnnouncementStore {
  const log = new SqliteAuditLog(db);
  return {
    async announce(event) {
      guard(() => log.append({ ...event, at: now() }));
    },
  };
}
