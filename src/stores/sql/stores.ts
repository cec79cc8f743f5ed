import type { OpenStoresOptions } from "../open-options.js";
import { checkStoreSecret, type FingerprintKeeper, type StoreSecret } from "../store-secret.js";
import type { Stores } from "../types.js";
import { SqlApprovalStore } from "./approvals.js";
import { createSqlBudgetStore, createSqlSeenOnceStore } from "./budgets.js";
import { createSqlAnnouncementStore } from "./announcements.js";
import { createSqlConversationStore } from "./conversations.js";
import { createSqlLeaseStore } from "./leases.js";
import { sqlCall, type PairedLookup, type SqlDriver } from "./driver.js";
import { SqlPairingStore } from "./pairing.js";
import { SqlSessionBindingStore } from "./session-binding.js";
import { createSqlSettingsStore } from "./settings.js";
import { createSqlTokenStore } from "./tokens.js";

/** What a backend hands over once its tables are migrated: where they are (for messages), the secret, its extras. */
export interface SqlStoresSetup {
  /** Names the tables in messages, e.g. `postgres (schema "gatehouse")`. */
  where: string;
  secret: StoreSecret;
  /** The backend's own isPaired, when it has a faster one than the shared statement. */
  lookup?: PairedLookup;
}

/** The secret's fingerprint in the meta table; of instances opening new tables at once, the first insert wins. */
function fingerprintKeeper(driver: SqlDriver): FingerprintKeeper {
  const { dialect } = driver;
  const table = dialect.table("meta");
  const read = async (): Promise<string | null> =>
    (
      await driver.get<{ value: string }>(
        `SELECT value FROM ${table} WHERE ${dialect.keyColumn} = 'secret_fingerprint'`,
      )
    )?.value ?? null;
  return {
    read,
    adopt: async (fingerprint) => {
      await driver.execute(dialect.insertIfAbsent(table, [dialect.keyColumn, "value"], [dialect.keyColumn]), [
        "secret_fingerprint",
        fingerprint,
      ]);
      return (await read()) ?? fingerprint;
    },
  };
}

/**
 * Every store of an SQL backend on one driver whose tables are migrated: checks the secret, then builds pairing,
 * sessions, tokens, budgets, seen-once keys, approvals, conversations, leases, announcements and settings. The driver is closed with the last of
 * pairing and sessions to close.
 */
export async function openSqlStores(
  driver: SqlDriver,
  options: OpenStoresOptions,
  setup: SqlStoresSetup,
): Promise<Stores> {
  await sqlCall(driver, () =>
    checkStoreSecret(setup.where, setup.secret, fingerprintKeeper(driver), options.secretCheck),
  );
  let users = 2;
  const release = async (): Promise<void> => {
    users -= 1;
    if (users === 0) await driver.close();
  };
  const now = options.now ?? Date.now;
  const pairing = new SqlPairingStore(driver, { ...options, secret: setup.secret.key }, release, setup.lookup);
  const sessions = new SqlSessionBindingStore(
    driver,
    { now: options.now, idleTtlMs: options.sessionIdleTtlMs },
    release,
  );
  await sessions.purgeIdle();
  await pairing.forgetInert();
  const approvals = new SqlApprovalStore(driver, { now: options.now });
  return {
    backend: driver.backend,
    pairing,
    sessions,
    tokens: createSqlTokenStore(driver, pairing.log, now),
    budgets: createSqlBudgetStore(driver, now),
    seen: createSqlSeenOnceStore(driver, now),
    approvals,
    conversations: createSqlConversationStore(driver, options.now),
    leases: createSqlLeaseStore(driver, now),
    announcements: createSqlAnnouncementStore(driver, pairing.log, now),
    settings: createSqlSettingsStore(driver, driver.dialect.keyColumn),
    close: async () => {
      await approvals.close();
      await pairing.close();
      await sessions.close();
    },
  };
}
