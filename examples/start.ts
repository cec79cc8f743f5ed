/**
 * A gateway on one of the example stores, for trying them by hand (README, "Bring your own store"):
 *   npx tsx examples/start.ts map                             # Maps in this process
 *   npx tsx examples/start.ts sqlite ./example-pairing.db     # a SQLite file several processes can share
 *   npx tsx examples/start.ts redis redis://127.0.0.1:6379/0  # a Redis database several processes can share
 * Listens on 127.0.0.1:8787 (PORT overrides), prints an owner token once, and stops on Ctrl-C.
 */
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { createGateway, type AuthProtocol, type PairingProtocol } from "gatehouse";
import { createMapStores } from "./map-store.js";
import { createRedisExampleStore } from "./redis-store.js";
import { createSqliteExampleStore } from "./sqlite-store.js";
import { ownerTokenAuth } from "./token-auth.js";

const [kind = "map", where = ""] = process.argv.slice(2);

async function openStore(): Promise<{ pairing: PairingProtocol; close(): Promise<void> }> {
  if (kind === "map") return { pairing: createMapStores().pairing, close: async () => undefined };
  if (kind === "sqlite") {
    const store = createSqliteExampleStore(where || "./example-pairing.db");
    return { pairing: store, close: async () => store.close() };
  }
  if (kind === "redis") {
    const client = await createClient({ url: where || "redis://127.0.0.1:6379/0" }).connect();
    return {
      pairing: createRedisExampleStore(client, { prefix: "gatehouse-example:" }),
      close: async () => void (await client.quit()),
    };
  }
  throw new TypeError(`unknown example store "${kind}": use map, sqlite or redis`);
}

const store = await openStore();
const token = randomBytes(24).toString("base64url");
const auth: AuthProtocol = ownerTokenAuth(token);
const gateway = createGateway({
  pairingStore: store.pairing,
  ...(kind === "map" ? { sessionBinding: createMapStores().sessions } : {}),
  auth,
  store: "memory:",
  // A try-out gateway keeps nothing between runs (a new owner token each time): a secret of its own, so it leaves no
  // ./.gatehouse/ behind in the folder it runs in (that is `gatehouse start`'s data directory).
  secret: randomBytes(32),
  http: { port: Number(process.env.PORT ?? 8787) },
  logger: { info: () => undefined, warn: (m) => console.error(m), error: (m) => console.error(m) },
});
await gateway.start();
console.log(`gateway on ${gateway.url} with the ${kind} example store`);
console.log(`owner token (shown once): ${token}`);
const stop = async () => {
  await gateway.stop();
  await store.close();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
