import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { openSqliteStores } from "../src/stores/sqlite/index.js";
import type { PairingStore, SessionBindingStore } from "../src/stores/types.js";
import { describePairingStore, describeSessionBindingStore, type SuiteContext } from "../src/testing/index.js";

const dir = mkdtempSync(join(tmpdir(), "gh-sqlite-suite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = (): string => join(dir, `store-${++files}.db`);

/** Each store gets its own file; closing the store closes its share of the file. */
async function pairingStore(ctx: SuiteContext): Promise<PairingStore> {
  const stores = await openSqliteStores(freshFile(), { ...ctx.rules, now: ctx.now, secret: ctx.secret });
  await stores.sessions.close();
  return stores.pairing;
}

async function sessionStore(ctx: SuiteContext): Promise<SessionBindingStore> {
  const stores = await openSqliteStores(freshFile(), {
    now: ctx.now,
    secret: ctx.secret,
    sessionIdleTtlMs: ctx.idleTtlMs,
  });
  await stores.pairing.close();
  return stores.sessions;
}

describePairingStore("sqlite", pairingStore, { describe, it, sharedUrl: () => `sqlite:${freshFile()}` });
describeSessionBindingStore("sqlite", sessionStore, { describe, it });
