import { findStoreBackend, storeUrlProblem, type StoreBackend } from "./registry.js";
import { resolvePairingOptions } from "./shared.js";
import type { OpenStoresOptions } from "./open-options.js";
import type { Stores } from "./types.js";

export type { OpenStoresOptions } from "./open-options.js";

/**
 * Opens the pairing and session stores named by a URL: `memory:`, `sqlite:./path.db`, `redis://…`, `postgres://…`,
 * `mysql://…` (see registry.ts: each backend is one descriptor there). Options every backend shares are checked here,
 * once, before anything is created; the secret follows the one policy in store-secret.ts.
 */
export async function openStores(url: string, options: OpenStoresOptions = {}): Promise<Stores> {
  const problem = storeUrlProblem(url);
  if (problem !== null) throw new TypeError(problem);
  resolveCommonOptions(options);
  return (findStoreBackend(url) as StoreBackend).open(url, options);
}

/** The options every backend reads: pairing rules, clock and code source (resolvePairingOptions), and the deadline. */
export function resolveCommonOptions(options: OpenStoresOptions): void {
  resolvePairingOptions(options);
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new TypeError("timeoutMs must be a positive number of milliseconds");
  }
}

export { SUPPORTED_STORE_URLS } from "./registry.js";
