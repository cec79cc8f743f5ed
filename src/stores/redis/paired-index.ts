import type { RedisConnection } from "./connection.js";
import type { RedisKeys } from "./keys.js";
import { script } from "./scripts.js";

/**
 * The pairings of one channel type without reading every pairing: `<p>paired:type:<type>` is the set of the channel
 * ids paired on that type, kept by the approve, revoke and restore scripts next to the `paired` hash (the owner card
 * asks it for the owners of one channel, `owner.<channel>`). `<p>paired-index` marks a prefix whose sets are complete;
 * a prefix written before the sets existed gets them at open (`indexPairedByType`), and until then the listing reads
 * the hash, so it is right either way. An older gatehouse sharing the prefix after that does not keep the sets: its
 * revokes leave ids the listing skips (it reads each from the hash), but its approvals are missing from the sets, so
 * upgrade every instance of one prefix together.
 */

/** ARGV[1] = key prefix, ARGV[2] = channel type. The pairings of that type as stored (JSON), in no order. */
export const LIST_PAIRED_OF_TYPE = script(
  "list-paired-of-type",
  `
local P, ct = ARGV[1], ARGV[2]
local out = {}
if redis.call('EXISTS', P .. 'paired-index') == 1 then
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'paired:type:' .. ct)) do
    local pairing = redis.call('HGET', P .. 'paired', ct .. ':' .. id)
    if pairing then table.insert(out, pairing) end
  end
  return out
end
local head = ct .. ':'
local all = redis.call('HGETALL', P .. 'paired')
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #head) == head then table.insert(out, all[i + 1]) end
end
return out
`,
);

/**
 * ARGV[1] = key prefix, ARGV[2] = HSCAN cursor. Adds one batch of the `paired` hash to the per-type sets (a channel
 * type holds no ':', so a field's first ':' ends its type); the last batch marks the prefix indexed. Returns the next
 * cursor ("0" when done). Each batch is atomic, and pairings made or revoked meanwhile keep their sets themselves.
 */
const INDEX_BATCH = script(
  "index-paired",
  `
local P = ARGV[1]
local reply = redis.call('HSCAN', P .. 'paired', ARGV[2], 'COUNT', 500)
local fields = reply[2]
for i = 1, #fields, 2 do
  local sep = string.find(fields[i], ':', 1, true)
  if sep then redis.call('SADD', P .. 'paired:type:' .. string.sub(fields[i], 1, sep - 1), string.sub(fields[i], sep + 1)) end
end
if reply[1] == '0' then redis.call('SET', P .. 'paired-index', '1') end
return reply[1]
`,
);

/** At open: builds the per-type sets of a prefix written before they existed, one batch per call. */
export async function indexPairedByType(conn: RedisConnection, keys: RedisKeys): Promise<void> {
  if (Number(await conn.run(() => conn.command(["EXISTS", keys.key("paired-index")]))) === 1) return;
  let cursor = "0";
  do {
    const next = cursor;
    cursor = String(await conn.run(() => conn.eval(INDEX_BATCH, [], [keys.prefix, next])));
  } while (cursor !== "0");
}
