import { randomBytes } from "node:crypto";
import { openMariaDbStores } from "../src/stores/mariadb/index.js";
import { MARIADB_URL, testPrefixes } from "./mariadb-helpers.js";
import { describeStoreOutage } from "./support/store-outage.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const { available, base } = await testPrefixes("o");

// The test server behind a TCP proxy of this test's own: hung = the proxy passes nothing on, down = it cuts and refuses.
describeStoreOutage("mariadb", {
  available,
  hungWritesAreLost: true,
  async start() {
    const target = new URL(MARIADB_URL);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 3306));
    return {
      open(n, options) {
        const url = new URL(MARIADB_URL);
        url.host = `127.0.0.1:${proxy.port}`;
        url.searchParams.set("prefix", `${base}${n}_`);
        return openMariaDbStores(url.toString(), { secret: randomBytes(32), ...options });
      },
      hang: async () => proxy.hang(),
      unhang: () => proxy.up(),
      down: () => proxy.down(),
      up: () => proxy.up(),
      destroy: () => proxy.down(),
    };
  },
});
