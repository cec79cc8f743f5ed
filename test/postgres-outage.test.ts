import { randomBytes } from "node:crypto";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import { TempPostgres } from "./postgres-server.js";
import { describeStoreOutage } from "./support/store-outage.js";

// A PostgreSQL server of this test's own: hung = every server process stopped (SIGSTOP), down = a fast shutdown.
describeStoreOutage("postgres", {
  available: true,
  hungWritesAreLost: false,
  async start() {
    const server = await TempPostgres.start();
    return {
      open: (n, options) =>
        openPostgresStores(`${server.url}?schema=gh_outage${n === 1 ? "" : `_${n}`}`, {
          secret: randomBytes(32),
          ...options,
        }),
      hang: () => server.freeze(),
      unhang: () => server.thaw(),
      down: () => server.stop(),
      up: () => server.startAgain(),
      destroy: () => server.destroy(),
    };
  },
});
