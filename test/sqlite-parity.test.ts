/** The SQLite store against the memory reference: the shared differential suite, one fresh database file per sequence. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { openSqliteStores } from "../src/stores/sqlite/index.js";
import { describeDifferentialPairingStore } from "../src/testing/index.js";

const dir = mkdtempSync(join(tmpdir(), "gh-sqlite-parity-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describeDifferentialPairingStore(
  "sqlite",
  async (ctx) => {
    const stores = await openSqliteStores(join(dir, `p-${++files}.db`), {
      ...ctx.rules,
      now: ctx.now,
      secret: ctx.secret,
    });
    await stores.sessions.close();
    return stores.pairing;
  },
  { describe, it },
);
