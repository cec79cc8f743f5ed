/**
 * The pairing and session conformance suites on a SQL store (PostgreSQL, MariaDB): every store on a fresh URL (its own
 * schema or table prefix, all dropped by the caller's helper at the end) with a small pool, ended when it closes.
 */
import { describe, it } from "vitest";
import type { OpenStoresOptions } from "../../src/stores/open-options.js";
import type { Stores } from "../../src/stores/types.js";
import { describePairingStore, describeSessionBindingStore } from "../../src/testing/index.js";

export function describeSqlConformance(
  name: string,
  open: (url: string, options: OpenStoresOptions) => Promise<Stores>,
  freshUrl: () => string,
): void {
  describePairingStore(
    name,
    async (ctx) => {
      const stores = await open(freshUrl(), { ...ctx.rules, now: ctx.now, secret: ctx.secret, poolSize: 4 });
      await stores.sessions.close();
      return stores.pairing;
    },
    { describe, it, sharedUrl: freshUrl },
  );
  describeSessionBindingStore(
    name,
    async (ctx) => {
      const stores = await open(freshUrl(), {
        now: ctx.now,
        secret: ctx.secret,
        sessionIdleTtlMs: ctx.idleTtlMs,
        poolSize: 2,
      });
      await stores.pairing.close();
      return stores.sessions;
    },
    { describe, it },
  );
}
