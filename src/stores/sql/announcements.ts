import type { AnnouncementStore, Clock } from "../types.js";
import type { SqlAuditLog } from "./audit.js";
import { sqlCall, type SqlDriver } from "./driver.js";

/** Announcements appended to the audit table over any SQL driver; every instance's feed reads them from there. */
export function createSqlAnnouncementStore(driver: SqlDriver, log: SqlAuditLog, now: Clock): AnnouncementStore {
  return {
    async announce(event) {
      await sqlCall(driver, (deadline) => driver.write((tx) => log.append(tx, { ...event, at: now() }), deadline));
      void log.pump();
    },
  };
}
