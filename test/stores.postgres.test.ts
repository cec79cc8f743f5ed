import { describe, it } from "vitest";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import { POSTGRES_URL, testSchemas } from "./postgres-helpers.js";
import { describeSqlConformance } from "./support/sql-conformance.js";

// Every store gets its own schema, all dropped at the end.
const { available, nextUrl: freshUrl } = await testSchemas();

if (available) {
  describeSqlConformance("postgres", openPostgresStores, freshUrl);
} else {
  describe.skip(`postgres conformance (no PostgreSQL at ${POSTGRES_URL}; set CI=true to make this a failure)`, () => {
    it("needs PostgreSQL", () => undefined);
  });
}
