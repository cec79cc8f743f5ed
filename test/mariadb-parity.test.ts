/** The MariaDB/MySQL store against the memory reference: the shared differential suite, fresh tables per sequence. */
import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import { openMariaDbStores } from "../src/stores/mariadb/index.js";
import type { Stores, TokenStore } from "../src/stores/types.js";
import { describeDifferentialPairingStore, describeTokenStore } from "../src/testing/index.js";
import { testPrefixes } from "./mariadb-helpers.js";

const opened: Stores[] = [];
// The stores still open are closed before their tables are dropped.
const { available, nextUrl } = await testPrefixes("p", () => Promise.all(opened.map((s) => s.close())));

describe.runIf(available)("mariadb", () => {
  describeDifferentialPairingStore(
    "mariadb",
    async (ctx) => {
      const stores = await openMariaDbStores(nextUrl(), {
        ...ctx.rules,
        now: ctx.now,
        secret: ctx.secret,
        poolSize: 2,
      });
      await stores.sessions.close();
      return stores.pairing;
    },
    // Each sequence creates its tables (about half a second), so fewer sequences than the local stores' default.
    { describe, it, numRuns: 20 },
  );

  describeTokenStore(
    "mariadb (two instances on one set of tables)",
    async () => {
      const url = nextUrl();
      const secret = randomBytes(32);
      const pair: TokenStore[] = [];
      for (let i = 0; i < 2; i++) {
        const stores = await openMariaDbStores(url, { secret, poolSize: 2 });
        opened.push(stores);
        pair.push(stores.tokens as TokenStore);
      }
      return [pair[0] as TokenStore, pair[1] as TokenStore];
    },
    { describe, it },
  );
});
