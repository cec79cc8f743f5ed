import { createClient } from "redis";
import { NATIVE_TTL_GRACE_MS } from "../../src/stores/redis/pairing.js";
import { serializePrincipal } from "../../src/stores/principal.js";
import { DEFAULT_SESSION_IDLE_TTL_MS } from "../../src/stores/session-defaults.js";
import { batches, type Population } from "./dataset.js";

/** Senders per batch: two commands (pipelined) write a whole batch. */
const BATCH = 5_000;

const makeClient = (url: string) => createClient({ url });
type Client = ReturnType<typeof makeClient>;

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = makeClient(url);
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/** Writes one batch of session hashes server-side: KEYS = session keys, ARGV = [lastSeen, ttl, principal…]. */
const SEED_SESSIONS = `
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'principal', ARGV[i + 2], 'lastSeen', ARGV[1])
  redis.call('PEXPIRE', key, ARGV[2])
end
return #KEYS
`;

/**
 * Writes paired senders and their sessions with the key layout of src/stores/redis/keys.ts, in batches of 5k: one
 * multi-field HSET of `<prefix>paired` ("<type>:<id>" -> pairing JSON with a seq, as the approve script writes it) and
 * one Lua call writing the batch's `<prefix>session:<id>` hashes (principal + lastSeen, native TTL as the store sets it);
 * `<prefix>seq` is moved past the seeded seqs.
 */
export async function seedRedis(
  url: string,
  prefix: string,
  people: Population,
  from: number,
  to: number,
): Promise<void> {
  const now = String(Date.now());
  const sessionTtl = String(DEFAULT_SESSION_IDLE_TTL_MS + NATIVE_TTL_GRACE_MS);
  await withClient(url, async (client) => {
    const seqBase = Number(await client.sendCommand(["INCRBY", `${prefix}seq`, String(to - from)])) - (to - from);
    for (const [start, end] of batches(to - from, BATCH)) {
      const fields: string[] = [];
      const keys: string[] = [];
      const principals: string[] = [];
      for (let i = from + start; i < from + end; i++) {
        const pairing = {
          channelId: people.idOf(i),
          channelType: people.channelType,
          label: people.labelOf(i),
          pairedAt: Number(now),
          approvedBy: "owner",
          seq: seqBase + (i - from) + 1,
        };
        fields.push(`${people.channelType}:${people.idOf(i)}`, JSON.stringify(pairing));
        keys.push(`${prefix}session:${people.sessionOf(i)}`);
        principals.push(serializePrincipal(people.principalOf(i)));
      }
      await Promise.all([
        client.sendCommand(["HSET", `${prefix}paired`, ...fields]),
        client.sendCommand(["EVAL", SEED_SESSIONS, String(keys.length), ...keys, now, sessionTtl, ...principals]),
      ]);
    }
  });
}

/** Deletes every key under the prefix (SCAN + UNLINK in batches). */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  await withClient(url, async (client) => {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 10_000 })) {
      if (keys.length > 0) await client.sendCommand(["UNLINK", ...keys]);
    }
  });
}
