import { describe, it } from "vitest";
import { openMariaDbStores } from "../src/stores/mariadb/index.js";
import type { PairingStore, SessionBindingStore } from "../src/stores/types.js";
import { describePairingStore, describeSessionBindingStore, type SuiteContext } from "../src/testing/index.js";
import { testPrefixes } from "./mariadb-helpers.js";

// Every store gets its own table prefix, all dropped at the end.
const { available, nextUrl } = await testPrefixes("s");

async function pairingStore(ctx: SuiteContext): Promise<PairingStore> {
  const stores = await openMariaDbStores(nextUrl(), { ...ctx.rules, now: ctx.now, secret: ctx.secret, poolSize: 4 });
  await stores.sessions.close();
  return stores.pairing;
}

async function sessionStore(ctx: SuiteContext): Promise<SessionBindingStore> {
  const stores = await openMariaDbStores(nextUrl(), { now: ctx.now, secret: ctx.secret, sessionIdleTtlMs: ctx.idleTtlMs, poolSize: 2 });
  await stores.pairing.close();
  return stores.sessions;
}

describe.runIf(available)("mariadb stores", () => {
  describePairingStore("mariadb", pairingStore, { describe, it, sharedUrl: nextUrl });
  describeSessionBindingStore("mariadb", sessionStore, { describe, it });
});
