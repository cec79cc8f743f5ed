/** The PostgreSQL store against the memory reference: the shared differential suite, one fresh schema per sequence. */
import { describe, it } from "vitest";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import { POSTGRES_URL, testSchemas } from "./postgres-helpers.js";
import { describeSqlParity } from "./support/sql-parity.js";

// Every sequence gets its own schema, all dropped at the end.
const { available, nextUrl } = await testSchemas("parity_");

if (available) {
  describeSqlParity("postgres", openPostgresStores, nextUrl);
} else {
  describe.skip(`postgres parity (no PostgreSQL at ${POSTGRES_URL}; set CI=true to make this a failure)`, () => {
    it("needs PostgreSQL", () => undefined);
  });
}
