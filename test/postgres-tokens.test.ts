import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import type { Stores, TokenStore } from "../src/stores/types.js";
import { describeTokenStore } from "../src/testing/index.js";
import { testSchemas } from "./postgres-helpers.js";

const opened: Stores[] = [];
// The stores still open are closed before their schemas are dropped.
const { available, nextUrl } = await testSchemas("t", () => Promise.all(opened.map((s) => s.close())));

describe.runIf(available)("postgres token store", () => {
  describeTokenStore(
    "postgres (two instances on one schema)",
    async () => {
      const url = nextUrl();
      const secret = randomBytes(32);
      const pair: TokenStore[] = [];
      for (let i = 0; i < 2; i++) {
        const stores = await openPostgresStores(url, { secret, poolSize: 2 });
        opened.push(stores);
        pair.push(stores.tokens as TokenStore);
      }
      return [pair[0] as TokenStore, pair[1] as TokenStore];
    },
    { describe, it },
  );
});
