import { describe, it } from "vitest";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import type { PairingStore, SessionBindingStore } from "../src/stores/types.js";
import { describePairingStore, describeSessionBindingStore, type SuiteContext } from "../src/testing/index.js";
import { POSTGRES_URL, testSchemas } from "./postgres-helpers.js";

// Every store gets its own schema, all dropped at the end.
const { available, nextUrl: freshUrl } = await testSchemas();

/** Each store gets its own schema (and a small pool, ended when the store closes). */
async function pairingStore(ctx: SuiteContext): Promise<PairingStore> {
  const stores = await openPostgresStores(freshUrl(), { ...ctx.rules, now: ctx.now, secret: ctx.secret, poolSize: 4 });
  await stores.sessions.close();
  return stores.pairing;
}

async function sessionStore(ctx: SuiteContext): Promise<SessionBindingStore> {
  const stores = await openPostgresStores(freshUrl(), {
    now: ctx.now,
    secret: ctx.secret,
    sessionIdleTtlMs: ctx.idleTtlMs,
    poolSize: 2,
  });
  await stores.pairing.close();
  return stores.sessions;
}

if (available) {
  describePairingStore("postgres", pairingStore, { describe, it, sharedUrl: freshUrl });
  describeSessionBindingStore("postgres", sessionStore, { describe, it });
} else {
  describe.skip(`postgres conformance (no PostgreSQL at ${POSTGRES_URL}; set CI=true to make this a failure)`, () => {
    it("needs PostgreSQL", () => undefined);
  });
}
