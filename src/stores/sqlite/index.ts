import { dirname, resolve } from "node:path";
import { loadGatewaySecret } from "../../pairing/secret.js";
import type { OpenStoresOptions } from "../open.js";
import type { PairingRules, PairingStoreOptions, Stores } from "../types.js";
import { DEFAULT_PAIRING_RULES } from "../types.js";
import { SqliteConnection } from "./connection.js";
import { SqlitePairingStore } from "./pairing.js";
import { SqliteSessionBindingStore } from "./session-binding.js";
import { createSqliteTokenStore } from "./tokens.js";

export { SqliteConnection, SqlitePairingStore, SqliteSessionBindingStore };
export { SCHEMA_VERSION } from "./schema.js";

const RULE_NAMES = Object.keys(DEFAULT_PAIRING_RULES) as (keyof PairingRules)[];

/** Only the pairing rules, secret and clock out of the wider openStores options. */
function pairingOptions(options: OpenStoresOptions, secret: Buffer): PairingStoreOptions {
  const picked: PairingStoreOptions = { secret, now: options.now };
  for (const name of RULE_NAMES) if (options[name] !== undefined) picked[name] = options[name];
  return picked;
}

/**
 * Opens the SQLite pairing and session stores in one file (`path` is what follows `sqlite:`, relative to the working
 * directory; missing folders are created). The code-hashing secret is `options.secret`, else the gateway secret kept
 * in `options.dataDir`, else beside the database. A corrupt, foreign or newer database is an error, never overwritten.
 */
export async function openSqliteStores(path: string, options: OpenStoresOptions = {}): Promise<Stores> {
  if (typeof path !== "string" || path.trim() === "") {
    throw new TypeError('sqlite store URL needs a file path, e.g. "sqlite:./.gatehouse/gatehouse.db"');
  }
  if (path === ":memory:" || path.startsWith("file:")) {
    throw new TypeError('sqlite store URL must name a file path ("sqlite:./data/gatehouse.db"); use "memory:" for a store in memory');
  }
  const file = resolve(path);
  const secret = options.secret ?? loadGatewaySecret(options.dataDir ?? dirname(file));
  const busyTimeoutMs = options.timeoutMs === undefined ? undefined : Math.max(0, Math.ceil(options.timeoutMs));
  const connection = SqliteConnection.open(file, { busyTimeoutMs });
  try {
    const pairing = new SqlitePairingStore(connection, pairingOptions(options, secret));
    const sessions = new SqliteSessionBindingStore(connection, { now: options.now, idleTtlMs: options.sessionIdleTtlMs });
    const tokens = createSqliteTokenStore(connection.db);
    return {
      backend: "sqlite",
      pairing,
      sessions,
      tokens,
      close: async () => {
        await pairing.close();
        await sessions.close();
      },
    };
  } catch (error) {
    if (connection.db.open) connection.db.close();
    throw error;
  }
}
