import type { AnnouncementStore, Clock } from "../types.js";
import type { PostgresDatabase } from "./database.js";

/** Announcements appended to the audit table with the NOTIFY every instance's feed listens for. */
export function createPostgresAnnouncementStore(db: PostgresDatabase, now: Clock = Date.now): AnnouncementStore {
  return {
    async announce(event) {
      await db.call(() => db.withClient((client) => db.transaction(client, null, (tx) => db.appendAudit(tx, { ...event, at: now() }))));
    },
  };
}
