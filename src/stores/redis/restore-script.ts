import { script } from "./scripts.js";

/**
 * `restore` for `gatehouse import`/`migrate` in one script: pairings written as they were (a pairing that already
 * exists keeps its listing place), then the history appended to the audit stream with its original times.
 * ARGV[1] = key prefix, ARGV[2] = JSON array of pairings, ARGV[3] = JSON array of audit events (detail as JSON text).
 */
export const RESTORE = script(
  "restore",
  `
local P = ARGV[1]
local paired = cjson.decode(ARGV[2])
local events = cjson.decode(ARGV[3])
for _, p in ipairs(paired) do
  local field = p.channelType .. ':' .. p.channelId
  local old = redis.call('HGET', P .. 'paired', field)
  local seq
  if old then seq = cjson.decode(old).seq else seq = redis.call('INCR', P .. 'seq') end
  redis.call('HSET', P .. 'paired', field, cjson.encode({channelId = p.channelId, channelType = p.channelType,
    label = p.label, pairedAt = string.format('%d', p.pairedAt), approvedBy = p.approvedBy, seq = seq}))
  redis.call('SADD', P .. 'paired:type:' .. p.channelType, p.channelId)
end
for _, e in ipairs(events) do
  local entry = {'at', string.format('%d', e.at), 'type', e.type, 'channelType', e.channelType, 'channelId', e.channelId,
    'actor', e.actor}
  if e.kind then table.insert(entry, 'kind'); table.insert(entry, e.kind) end
  table.insert(entry, 'detail'); table.insert(entry, e.detail)
  redis.call('XADD', P .. 'audit', '*', unpack(entry))
end
return #paired + #events
`,
);
