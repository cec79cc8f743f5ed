/**
 * A TypeScript port of the Redis pairing store in PraisonAI's protocol docs, run against gatehouse: the same keys
 * (`pairing:{code}` with a TTL, `paired:{channel_type}:{user_id}` holding the user name) and the same codes (8 hex digits,
 * upper case). Four changes make it keep the required rules (docs/protocols.md#the-pairing-rules):
 * - the pending key remembers who asked, and `approve` refuses a `userId` that is not the requester (approve-someone-else)
 *   and pairs the requester when `userId` is empty (the docs' version would pair the empty id);
 * - the code is taken with GETDEL, one atomic step, so of racing approvals exactly one wins (single-use);
 * - the code's channel type must match (unknown-code), and listPending / listPaired list what is there (the docs'
 *   version returns [] "for simplicity", which leaves the owner nothing to approve from).
 * Every gateway and process sharing the Redis database sees the same pairings.
 *
 *   import { createClient } from "redis";
 *   const client = await createClient({ url: "redis://127.0.0.1:6379/0" }).connect();
 *   const gateway = createGateway({ pairingStore: createRedisExampleStore(client) });
 */
import { randomBytes } from "node:crypto";
import type { PairedChannel, PairingProtocol, PendingRequest } from "gatehouse";
import { pendingRequest } from "./pending.js";

export interface RedisExampleOptions {
  /** Prepended to every key, so several stores can share one database. Default "". */
  prefix?: string;
  /** How long a code lives, seconds. Default 300, as in the docs. */
  ttlSeconds?: number;
}

/** What the store uses of a connected node-redis client (`await createClient({ url }).connect()` from `redis`). */
interface Client {
  get(key: string): Promise<string | null>;
  getDel(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { EX: number }): Promise<unknown>;
  exists(key: string): Promise<number>;
  del(key: string): Promise<number>;
  mGet(keys: string[]): Promise<(string | null)[]>;
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
}

interface Stored {
  channelType: string;
  channelId: string;
  createdAt: number;
}

export function createRedisExampleStore(client: Client, options: RedisExampleOptions = {}): PairingProtocol {
  const prefix = options.prefix ?? "";
  const ttl = options.ttlSeconds ?? 300;
  const pendingKey = (code: string) => `${prefix}pairing:${code}`;
  const pairedKey = (channelType: string, userId: string) => `${prefix}paired:${channelType}:${userId}`;

  /** Every key matching the pattern (SCAN, never KEYS: it does not block the server). */
  async function keys(pattern: string): Promise<string[]> {
    const found: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}${pattern}`, COUNT: 500 })) found.push(...batch);
    return found;
  }

  return {
    async generateCode(channelType = "unknown", channelId?: string) {
      const code = randomBytes(4).toString("hex").toUpperCase(); // 8-character hex, as in the docs
      const stored: Stored = { channelType, channelId: channelId ?? "", createdAt: Date.now() };
      await client.set(pendingKey(code), JSON.stringify(stored), { EX: ttl });
      return code;
    },

    async approve(channelType, code, userId = "", userName = "") {
      const key = pendingKey(String(code).trim().toUpperCase());
      const json = await client.get(key);
      if (!json) return false;
      const stored = JSON.parse(json) as Stored;
      const who = userId || stored.channelId;
      if (stored.channelType !== channelType || who === "") return false;
      if (stored.channelId !== "" && who !== stored.channelId) return false; // only the requester
      if ((await client.getDel(key)) === null) return false; // another approval took it first
      await client.set(pairedKey(channelType, who), JSON.stringify({ userName, pairedAt: Date.now() }));
      return true;
    },

    async isPaired(channelId, channelType) {
      return (await client.exists(pairedKey(channelType, channelId))) === 1;
    },

    async listPaired(): Promise<PairedChannel[]> {
      const found = await keys("paired:*");
      const values = found.length === 0 ? [] : await client.mGet(found);
      return found.flatMap((key, i) => {
        const [channelType = "", ...rest] = key.slice(prefix.length + "paired:".length).split(":");
        const value = values[i];
        if (!value) return [];
        const { userName, pairedAt } = JSON.parse(value) as { userName: string; pairedAt: number };
        return [{ channelType, channelId: rest.join(":"), label: userName, pairedAt }];
      });
    },

    async revoke(channelId, channelType) {
      return (await client.del(pairedKey(channelType, channelId))) > 0;
    },

    async listPending(channelType?: string): Promise<PendingRequest[]> {
      const found = await keys("pairing:*");
      const values = found.length === 0 ? [] : await client.mGet(found);
      return found.flatMap((key, i) => {
        const value = values[i];
        if (!value) return [];
        const stored = JSON.parse(value) as Stored;
        if (channelType !== undefined && stored.channelType !== channelType) return [];
        return [pendingRequest({ ...stored, code: key.slice(prefix.length + "pairing:".length) }, Date.now())];
      });
    },
  };
}
