import { dirname, resolve } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { OpenStoresOptions } from "../open-options.js";
import { resolvePairingOptions } from "../shared.js";
import { checkStoreSecret, resolveStoreSecret, type FingerprintKeeper } from "../store-secret.js";
import type { Stores } from "../types.js";
import { SqliteAuditLog } from "./audit-log.js";
import { guard, SqliteConnection } from "./connection.js";
import { SqlitePairingStore } from "./pairing.js";
import { SqliteSessionBindingStore } from "./session-binding.js";
import { createSqliteSeenOnceStore } from "./seen-once.js";
import { createSqliteTokenStore } from "./tokens.js";
import { SqliteApprovalStore } from "./approvals.js";
import { createSqliteBudgetStore } from "./budgets.js";
import { createSqliteConversationStore } from "./conversations.js";
import { createSqliteLeaseStore } from "./leases.js";
import { createSqliteAnnouncementStore } from "./announcements.js";
import { createSqliteSettingsStore } from "./settings.js";

export { SqliteConnection, SqlitePairingStore, SqliteSessionBindingStore };
export { SCHEMA_VERSION } from "./schema.js";

/**
 * Opens the SQLite pairing and session stores in one file (`path` is what follows `sqlite:`, relative to the working
 * directory; missing folders are created). The code-hashing secret is `options.secret`, else the gateway secret kept
 * in `options.dataDir`, else beside the database (see resolveStoreSecret); a database first opened with another secret
 * is refused. A corrupt, foreign or newer database is an error, never overwritten.
 */
export async function openSqliteStores(path: string, options: OpenStoresOptions = {}): Promise<Stores> {
  if (typeof path !== "string" || path.trim() === "") {
    throw new TypeError('sqlite store URL needs a file path, e.g. "sqlite:./.gatehouse/gatehouse.db"');
  }
  if (path === ":memory:" || path.startsWith("file:")) {
    throw new TypeError('sqlite store URL must name a file path ("sqlite:./data/gatehouse.db"); use "memory:" for a store in memory');
  }
  // Bad options are refused before anything (secret file, folder, database) is created.
  resolvePairingOptions(options);
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new TypeError("timeoutMs must be a positive number of milliseconds");
  }
  const busyTimeoutMs = timeoutMs === undefined ? undefined : Math.ceil(timeoutMs);
  const file = resolve(path);
  const secret = resolveStoreSecret("sqlite", options, dirname(file));
  const connection = SqliteConnection.open(file, { busyTimeoutMs });
  try {
    await checkStoreSecret(`sqlite (${file})`, secret, fingerprintKeeper(connection.db), options.secretCheck);
    const pairing = new SqlitePairingStore(connection, { ...options, secret: secret.key });
    const sessions = new SqliteSessionBindingStore(connection, { now: options.now, idleTtlMs: options.sessionIdleTtlMs });
    const tokens = createSqliteTokenStore(connection.db, { log: new SqliteAuditLog(connection.db), now: options.now ?? Date.now });
    const approvals = new SqliteApprovalStore(connection, { now: options.now });
    return {
      backend: "sqlite",
      pairing,
      sessions,
      tokens,
      seen: createSqliteSeenOnceStore(connection.db, options.now),
      approvals,
      budgets: createSqliteBudgetStore(connection.db, options.now),
      conversations: createSqliteConversationStore(connection.db, options.now),
      leases: createSqliteLeaseStore(connection.db, options.now),
      announcements: createSqliteAnnouncementStore(connection.db, options.now),
      settings: createSqliteSettingsStore(connection.db),
      close: async () => {
        await approvals.close();
        await pairing.close();
        await sessions.close();
      },
    };
  } catch (error) {
    connection.destroy();
    throw error;
  }
}

/** The secret's fingerprint in the meta table. */
function fingerprintKeeper(db: BetterSqlite3.Database): FingerprintKeeper {
  const read = db.prepare("SELECT value FROM meta WHERE key = 'secret_fingerprint'").pluck();
  const insert = db.prepare("INSERT INTO meta (key, value) VALUES ('secret_fingerprint', ?) ON CONFLICT (key) DO NOTHING");
  const stored = (): string | null => (guard(() => read.get()) as string | undefined) ?? null;
  return {
    read: async () => stored(),
    adopt: async (fingerprint) => {
      guard(() => insert.run(fingerprint));
      return stored() ?? fingerprint;
    },
  };
}
