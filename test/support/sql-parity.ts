import { describe, it } from "vitest";
import type { OpenStoresOptions } from "../../src/stores/index.js";
import type { Stores } from "../../src/stores/types.js";
import { describeDifferentialPairingStore } from "../../src/testing/index.js";

/**
 * A SQL store against the memory reference (the shared differential suite): each sequence opens the store on a
 * fresh `nextUrl()` (its own tables or schema). Creating them takes a fraction of a second, so fewer sequences than
 * the local stores' default.
 */
export function describeSqlParity(
  name: string,
  open: (url: string, options: OpenStoresOptions) => Promise<Stores>,
  nextUrl: () => string,
): void {
  describeDifferentialPairingStore(
    name,
    async (ctx) => {
      const stores = await open(nextUrl(), { ...ctx.rules, now: ctx.now, secret: ctx.secret, poolSize: 2 });
      await stores.sessions.close();
      return stores.pairing;
    },
    { describe, it, numRuns: 20 },
  );
}
