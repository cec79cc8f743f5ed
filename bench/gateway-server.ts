import { createGateway } from "../src/gateway/index.js";
import { silentLogger } from "../src/gateway/logger.js";
import { parentSaysStop } from "./lib/child.js";

/**
 * The gateway under load, in its own process: `tsx bench/gateway-server.ts <storeUrl> <secretHex> <dataDir>`.
 * Full gatehouse: fastify + /ws, token/webchat connect, per-request admission, the echo agent. The per-socket rate
 * limit is lifted (it exists to stop abuse, not to be measured); everything else is the default. Prints
 * {"url": "..."} when listening; stops cleanly (flushing a --cpu-prof profile) when stdin ends.
 */
const [store, secretHex, dataDir] = process.argv.slice(2);
if (!store || !secretHex || !dataDir) throw new TypeError("usage: gateway-server.ts <storeUrl> <secretHex> <dataDir>");

const gateway = createGateway({
  store,
  secret: Buffer.from(secretHex, "hex"),
  dataDir,
  logger: silentLogger,
  http: { host: "127.0.0.1", port: 0 },
  websocket: { rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 } },
});
await gateway.start();
process.stdout.write(`${JSON.stringify({ url: gateway.url })}\n`);
await parentSaysStop();
await gateway.stop();
process.exit(0);
