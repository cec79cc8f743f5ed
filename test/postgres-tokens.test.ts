import { randomBytes } from "node:crypto";
import { afterAll, describe, it } from "vitest";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import type { Stores, TokenStore } from "../src/stores/types.js";
import { describeTokenStore } from "../src/testing/index.js";
import { dropSchemas, postgresAvailable, uniqueSchema, urlWithSchema } from "./postgres-helpers.js";

const prefix = `${uniqueSchema("t")}_`;
let counter = 0;
const available = await postgresAvailable();
const opened: Stores[] = [];

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  if (available) await dropSchemas(prefix);
});

describe.runIf(available)("postgres token store", () => {
  describeTokenStore(
    "postgres (two instances on one schema)",
    async () => {
      const url = urlWithSchema(`${prefix}${++counter}`);
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
