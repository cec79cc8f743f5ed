/** The PostgreSQL store against the memory reference: the shared differential suite, one fresh schema per sequence. */
import { describe, it } from "vitest";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import { describeDifferentialPairingStore } from "../src/testing/index.js";
import { POSTGRES_URL, testSchemas } from "./postgres-helpers.js";

// Every sequence gets its own schema, all dropped at the end.
const { available, nextUrl } = await testSchemas("parity_");

if (available) {
  describeDifferentialPairingStore(
    "postgres",
    async (ctx) => {
      const stores = await openPostgresStores(nextUrl(), {
        ...ctx.rules,
        now: ctx.now,
        secret: ctx.secret,
        poolSize: 2,
      });
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
