/**
 * A second process sharing an example store: approves one code directly in the store, as another gateway instance or
 * an operator script would. Prints "true" or "false".
 *   tsx test/support/example-approve.ts redis <redis url> <key prefix> <channelType> <code>
 *   tsx test/support/example-approve.ts sqlite <file> - <channelType> <code>
 */
import { createClient } from "redis";
import { createRedisExampleStore } from "../../examples/redis-store.js";
import { createSqliteExampleStore } from "../../examples/sqlite-store.js";

const [kind, location = "", prefix = "", channelType = "", code = ""] = process.argv.slice(2);
if (kind === "redis") {
  const client = await createClient({ url: location }).connect();
  process.stdout.write(String(await createRedisExampleStore(client, { prefix }).approve(channelType, code)));
  await client.quit();
} else {
  const store = createSqliteExampleStore(location);
  process.stdout.write(String(store.approve(channelType, code)));
  store.close();
}
