import type { AnnouncementStore, Clock } from "../types.js";
import type { RedisConnection } from "./connection.js";
import { RedisKeys } from "./keys.js";

/** Announcements added to the audit stream (one XADD, atomic by itself), which every instance tails. */
export function createRedisAnnouncementStore(
  conn: RedisConnection,
  prefix: string,
  now: Clock = Date.now,
): AnnouncementStore {
  const audit = new RedisKeys(prefix).audit;
  return {
    async announce(event) {
      const fields = [
        "at",
        String(Math.trunc(now())),
        "type",
        event.type,
        "channelType",
        event.channelType,
        "channelId",
        event.channelId,
      ];
      await conn.run(() =>
        conn.command(["XADD", audit, "*", ...fields, "actor", event.actor, "detail", JSON.stringify(event.detail)]),
      );
    },
  };
}
