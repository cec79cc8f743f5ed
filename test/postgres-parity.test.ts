/** The PostgreSQL store against the memory reference: the shared differential suite, one fresh schema per sequence. */
import { afterAll, describe, it } from "vitest";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import { describeDifferentialPairingStore } from "../src/testing/index.js";
import { dropSchemas, POSTGRES_URL, postgresAvailable, uniqueSchema, urlWithSchema } from "./postgres-helpers.js";

// One prefix per run; every sequence gets its own schema under it, all dropped at the end.
const prefix = `${uniqueSchema("parity_")}_`;
let schemas = 0;

const available = await postgresAvailable();
afterAll(async () => {
  if (available) await dropSchemas(prefix);
});

if (available) {
  describeDifferentialPairingStore(
    "postgres",
    async (ctx) => {
      const url = urlWithSchema(`${prefix}${++schemas}`);
      const stores = await openPostgresStores(url, { ...ctx.rules, now: ctx.now, secret: ctx.secret, poolSize: 2 });
      await stores.sessions.close();
      return stores.pairing;
    },
    // Each sequence creates a schema (about 0.2 s), so fewer sequences than the local stores' default.
    { describe, it, numRuns: 20 },
  );
} else {
  describe.skip(`postgres parity (no PostgreSQL at ${POSTGRES_URL}; set CI=true to make this a failure)`, () => {
    it("needs PostgreSQL", () => undefined);
  });
}
