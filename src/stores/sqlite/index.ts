import { dirname, resolve } from "node:path";
import type { OpenStoresOptions } from "../open-options.js";
import { resolvePairingOptions } from "../shared.js";
import { SqlSessionBindingStore } from "../sql/session-binding.js";
import { openSqlStores } from "../sql/stores.js";
import { resolveStoreSecret } from "../store-secret.js";
import type { SessionStoreOptions, Stores } from "../types.js";
import { DEFAULT_BUSY_TIMEOUT_MS, SqliteConnection } from "./connection.js";
import { SqliteDriver } from "./driver.js";

export { SqliteConnection };
export { SCHEMA_VERSION } from "./schema.js";

/**
 * Opens the SQLite stores in one file (`path` is what follows `sqlite:`, relative to the working directory; missing
 * folders are created): the shared SQL stores (src/stores/sql/) on a better-sqlite3 driver. The code-hashing secret is
 * `options.secret`, else the gateway secret kept in `options.dataDir`, else beside the database (see
 * resolveStoreSecret); a database first opened with another secret is refused. A corrupt, foreign or newer database is
 * an error, never overwritten. `options.timeoutMs` is how long a call waits for another process's write lock.
 */
export async function openSqliteStores(path: string, options: OpenStoresOptions = {}): Promise<Stores> {
  if (typeof path !== "string" || path.trim() === "") {
    throw new TypeError('sqlite store URL needs a file path, e.g. "sqlite:./.gatehouse/gatehouse.db"');
  }
  if (path === ":memory:" || path.startsWith("file:")) {
    throw new TypeError(
      'sqlite store URL must name a file path ("sqlite:./data/gatehouse.db"); use "memory:" for a store in memory',
    );
  }
  // Bad options are refused before anything (secret file, folder, database) is created.
  resolvePairingOptions(options);
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new TypeError("timeoutMs must be a positive number of milliseconds");
  }
  const busyTimeoutMs = timeoutMs === undefined ? DEFAULT_BUSY_TIMEOUT_MS : Math.ceil(timeoutMs);
  const file = resolve(path);
  const secret = resolveStoreSecret("sqlite", options, dirname(file));
  const connection = SqliteConnection.open(file, { busyTimeoutMs }).acquire();
  const driver = new SqliteDriver(connection, busyTimeoutMs);
  try {
    return await openSqlStores(driver, options, { where: `sqlite (${file})`, secret, lookup: driver.pairedLookup() });
  } catch (error) {
    connection.destroy();
    throw error;
  }
}

/** Session bindings alone on a connection (tools, tests): the shared SQL session store on this file. */
export class SqliteSessionBindingStore extends SqlSessionBindingStore {
  constructor(connection: SqliteConnection, options: SessionStoreOptions = {}) {
    super(new SqliteDriver(connection.acquire(), DEFAULT_BUSY_TIMEOUT_MS), options, async () => connection.release());
  }
}
