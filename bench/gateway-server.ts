import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parentSaysStop } from "./lib/child.js";

/**
 * The gateway under load, in its own process: `tsx bench/gateway-server.ts <storeUrl> <secretHex> <dataDir>`.
 * Full gatehouse: fastify + /ws, token/webchat connect, per-request admission, the echo agent. The per-socket rate
 * limit and the per-address cap on sockets still connecting are lifted (it exists to stop abuse, not to be measured); everything else is the default. Prints
 * {"url": "..."} when listening; stops cleanly (flushing a --cpu-prof profile) when stdin ends.
 *
 * It runs the built package (dist/, what `npm start` and the `gatehouse` bin run), not the TypeScript sources through
 * tsx: tsx keeps function names by wrapping every closure in an Object.defineProperty call, about 1.5 µs of CPU per
 * message here that no deployment pays. `npm run bench` builds first.
 */
const [store, secretHex, dataDir] = process.argv.slice(2);
if (!store || !secretHex || !dataDir) throw new TypeError("usage: gateway-server.ts <storeUrl> <secretHex> <dataDir>");

const built = new URL("../dist/index.js", import.meta.url);
if (!existsSync(fileURLToPath(built)))
  throw new Error("bench: dist/ is missing; run `npm run build` first (npm run bench does)");
const { createGateway } = (await import(built.href)) as typeof import("../src/index.js");
const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const gateway = createGateway({
  store,
  secret: Buffer.from(secretHex, "hex"),
  dataDir,
  logger: silentLogger,
  http: { host: "127.0.0.1", port: 0 },
  // Every client of the load generator comes from 127.0.0.1 and connects at once: the per-address caps are lifted too.
  websocket: { rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 }, unauthenticatedLimit: false },
});
await gateway.start();
process.stdout.write(`${JSON.stringify({ url: gateway.url })}\n`);
await parentSaysStop();
await gateway.stop();
process.exit(0);
