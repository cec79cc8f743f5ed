import { createClient } from "redis";
import { NATIVE_TTL_GRACE_MS } from "../../src/stores/redis/pairing.js";
import { serializePrincipal } from "../../src/stores/principal.js";
import { DEFAULT_SESSION_IDLE_TTL_MS } from "../../src/stores/session-defaults.js";
import { batches, type Population } from "./dataset.js";

/** Commands in flight at once: node-redis pipelines everything issued in one tick on its single connection. */
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

/**
 * Writes paired senders and their sessions with the key layout of src/stores/redis/keys.ts: each batch is one
 * multi-field HSET of `<prefix>paired` ("<type>:<id>" -> pairing JSON with a seq, as the approve script writes it) plus
 * one HSET + PEXPIRE per `<prefix>session:<id>` hash, all pipelined; `<prefix>seq` is moved past the seeded seqs.
 */
export async function seedRedis(url: string, prefix: string, people: Population, from: number, to: number): Promise<void> {
  const now = Date.now();
  const sessionTtl = String(DEFAULT_SESSION_IDLE_TTL_MS + NATIVE_TTL_GRACE_MS);
  await withClient(url, async (client) => {
    const seqBase = Number(await client.sendCommand(["INCRBY", `${prefix}seq`, String(to - from)])) - (to - from);
    for (const [start, end] of batches(to - from, BATCH)) {
      const fields: string[] = [];
      const pending: Promise<unknown>[] = [];
      for (let i = from + start; i < from + end; i++) {
        const pairing = {
          channelId: people.idOf(i),
          channelType: people.channelType,
          label: people.labelOf(i),
          pairedAt: now,
          approvedBy: "owner",
          seq: seqBase + (i - from) + 1,
        };
        fields.push(`${people.channelType}:${people.idOf(i)}`, JSON.stringify(pairing));
        const key = `${prefix}session:${people.sessionOf(i)}`;
        pending.push(client.sendCommand(["HSET", key, "principal", serializePrincipal(people.principalOf(i)), "lastSeen", String(now)]));
        pending.push(client.sendCommand(["PEXPIRE", key, sessionTtl]));
      }
      pending.push(client.sendCommand(["HSET", `${prefix}paired`, ...fields]));
      await Promise.all(pending);
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
