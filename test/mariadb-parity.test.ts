/** The MariaDB/MySQL store against the memory reference: the shared differential suite, fresh tables per sequence. */
import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import { openMariaDbStores } from "../src/stores/mariadb/index.js";
import type { Stores, TokenStore } from "../src/stores/types.js";
import { describeTokenStore } from "../src/testing/index.js";
import { testPrefixes } from "./mariadb-helpers.js";
import { describeSqlParity } from "./support/sql-parity.js";

const opened: Stores[] = [];
// The stores still open are closed before their tables are dropped.
const { available, nextUrl } = await testPrefixes("p", () => Promise.all(opened.map((s) => s.close())));

describe.runIf(available)("mariadb", () => {
  describeSqlParity("mariadb", openMariaDbStores, nextUrl);

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
