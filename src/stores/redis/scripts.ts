import { createHash } from "node:crypto";

/**
 * Lua scripts: every change touching more than one key runs as one script, so it is atomic across processes and
 * gateway instances. Time comes from the caller (`now`, the store's injectable clock), never from Redis TIME; expiry
 * timestamps are stored and compared with it. Native TTLs are set as a safety net only, relative to `now` and with a
 * grace period, so any injected clock (far future or past) keeps working.
 *
 * Pairing scripts take ARGV[1] = key prefix, ARGV[2] = now (ms), ARGV[3] = grace (ms) and derive their keys from the
 * prefix (standalone Redis; see keys.ts for the layout). Behaviour mirrors src/stores/memory/pairing.ts line for line.
 */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

/** Fields of a pending entry, in the order scripts return them. */
export const PENDING_FIELDS = [
  "kind",
  "channelType",
  "channelId",
  "userName",
  "firstMessage",
  "createdAt",
  "expiresAt",
  "display",
  "seq",
] as const;

const PRELUDE = `
local P = ARGV[1]
local now = tonumber(ARGV[2])
local grace = tonumber(ARGV[3])
local STREAM = P .. 'audit'
local ALL = P .. 'pending:all'
local PENDING_FIELDS = {${PENDING_FIELDS.map((f) => `'${f}'`).join(", ")}}

local function int(n) return string.format('%d', n) end

-- native TTL (ms) for something that logically ends at untilMs: a safety net behind the stored timestamps
local function ttl(untilMs)
  local ms = untilMs - now + grace
  if ms < 1 then ms = 1 end
  return int(ms)
end

local function audit(typ, ct, id, actor, kind, detail)
  if kind ~= '' then
    return redis.call('XADD', STREAM, '*', 'at', int(now), 'type', typ, 'channelType', ct, 'channelId', id,
      'actor', actor, 'kind', kind, 'detail', detail)
  end
  return redis.call('XADD', STREAM, '*', 'at', int(now), 'type', typ, 'channelType', ct, 'channelId', id,
    'actor', actor, 'detail', detail)
end

local function member(hash, kind, ct, id) return hash .. ':' .. kind .. ':' .. ct .. ':' .. id end
local function parseMember(m) return string.match(m, '^(%x+):(%a+):([^:]+):(.*)$') end
local function requestKey(ct, id) return P .. 'request:' .. ct .. ':' .. id end

local function removePending(hash, kind, ct, id)
  local m = member(hash, kind, ct, id)
  redis.call('DEL', P .. 'pending:' .. hash)
  redis.call('ZREM', ALL, m)
  redis.call('ZREM', P .. 'pending:type:' .. ct, m)
  if kind == 'request' and redis.call('GET', requestKey(ct, id)) == hash then
    redis.call('DEL', requestKey(ct, id))
  end
end

-- every entry whose expiresAt <= now is removed and recorded as expired, oldest entry first (memory: sweep)
local function sweep()
  local expired = {}
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', ALL, '-inf', now)) do
    local hash, kind, ct, id = parseMember(m)
    if hash then
      local seq = tonumber(redis.call('HGET', P .. 'pending:' .. hash, 'seq') or '0')
      table.insert(expired, {seq = seq, hash = hash, kind = kind, ct = ct, id = id})
    else
      redis.call('ZREM', ALL, m)
    end
  end
  table.sort(expired, function(a, b) return a.seq < b.seq end)
  for _, e in ipairs(expired) do
    removePending(e.hash, e.kind, e.ct, e.id)
    audit('expired', e.ct, e.id, 'system', e.kind, '{}')
  end
end
`;

/** ARGV[4..]: kind, channelType, channelId, hash, userName, firstMessage, expiresAt, display, maxPending, detail JSON. */
export const GENERATE = script(
  "generate",
  `${PRELUDE}
local kind, ct, id, hash = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local userName, firstMessage, expiresAt, display = ARGV[8], ARGV[9], tonumber(ARGV[10]), ARGV[11]
local maxPending, detail = tonumber(ARGV[12]), ARGV[13]
sweep()
if kind == 'request' then
  local cooldown = tonumber(redis.call('GET', P .. 'cooldown:' .. ct .. ':' .. id) or '0')
  if cooldown > now then return {'cooldown', int(cooldown - now)} end
  local existing = redis.call('GET', requestKey(ct, id))
  if existing then
    local shown = redis.call('HGET', P .. 'pending:' .. existing, 'display')
    if shown then return {'existing', shown} end
  end
end
local typeKey = P .. 'pending:type:' .. ct
if redis.call('ZCARD', typeKey) >= maxPending then return {'limit'} end
local pk = P .. 'pending:' .. hash
if redis.call('EXISTS', pk) == 1 then return {'collision'} end
local seq = redis.call('INCR', P .. 'seq')
redis.call('HSET', pk, 'kind', kind, 'channelType', ct, 'channelId', id, 'userName', userName,
  'firstMessage', firstMessage, 'createdAt', int(now), 'expiresAt', int(expiresAt), 'display', display,
  'seq', seq, 'failures', 0)
redis.call('PEXPIRE', pk, ttl(expiresAt))
local m = member(hash, kind, ct, id)
redis.call('ZADD', ALL, expiresAt, m)
redis.call('ZADD', typeKey, expiresAt, m)
if kind == 'request' then
  redis.call('SET', requestKey(ct, id), hash, 'PX', ttl(expiresAt))
  audit('requested', ct, id, id, kind, detail)
else
  audit('invite-created', ct, id, 'owner', kind, detail)
end
return {'created'}
`,
);

/**
 * ARGV[4..]: channelType, hash, userId, userName, approvedBy, approvedBy given ('1'/'0'), inviteOnly ('1'/'0'),
 * codeFailureLimit, redeemFailureLimit, redeemFailureWindowMs, lockoutMs, the audit type of a success (approvedEventType).
 * Returns 1 when paired, else 0.
 */
export const APPROVE = script(
  "approve",
  `${PRELUDE}
local ct, hash, userId, userName = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local approvedByGiven, inviteOnly = ARGV[9] == '1', ARGV[10] == '1'
local codeFailureLimit, redeemLimit = tonumber(ARGV[11]), tonumber(ARGV[12])
local windowMs, lockoutMs = tonumber(ARGV[13]), tonumber(ARGV[14])
local approvedType = ARGV[15]
sweep()
local failKey = P .. 'failures:' .. ct .. ':' .. userId
if userId ~= '' then
  local lockedUntil = tonumber(redis.call('HGET', failKey, 'lockedUntil') or '0')
  if lockedUntil > now then return 0 end
end
local pk = P .. 'pending:' .. hash
local e = redis.call('HMGET', pk, 'kind', 'channelType', 'channelId', 'userName', 'firstMessage')
local kind, entryId, entryName, firstMessage = e[1], e[3], e[4], e[5]
local refused
if not kind then refused = true
elseif kind == 'invite' then refused = userId == ''
elseif inviteOnly then refused = true
else refused = userId ~= '' and userId ~= entryId end
if refused then
  if kind == 'request' and userId ~= '' then
    local failures = redis.call('HINCRBY', pk, 'failures', 1)
    if failures >= codeFailureLimit then
      removePending(hash, kind, ct, entryId)
      audit('expired', ct, entryId, 'system', kind, '{"reason":"too many wrong redemptions"}')
    end
  end
  if userId ~= '' then
    local w = redis.call('HMGET', failKey, 'windowStart', 'count', 'lockedUntil')
    local start, count, lockedUntil = tonumber(w[1]), tonumber(w[2]) or 0, tonumber(w[3]) or 0
    if (not start) or now - start >= windowMs then start = now; count = 0; lockedUntil = 0 end
    count = count + 1
    audit('redeem-failed', ct, userId, userId, '', '{"failures":' .. int(count) .. '}')
    if count >= redeemLimit then
      lockedUntil = now + lockoutMs
      audit('locked-out', ct, userId, 'system', '', '{"until":' .. int(lockedUntil) .. '}')
    end
    redis.call('HSET', failKey, 'windowStart', int(start), 'count', int(count), 'lockedUntil', int(lockedUntil))
    redis.call('PEXPIRE', failKey, ttl(math.max(start + windowMs, lockedUntil)))
  end
  return 0
end
local channelId = entryId
if kind == 'invite' then channelId = userId end
removePending(hash, kind, ct, entryId)
-- failure limits count consecutive failures: a success starts the redeemer's count afresh
if userId ~= '' then redis.call('DEL', failKey) end
local approvedBy = ARGV[8]
if not approvedByGiven then
  if kind == 'invite' then approvedBy = userId else approvedBy = 'owner' end
end
local label = channelId
if userName ~= '' then label = userName elseif entryName ~= '' then label = entryName end
local field = ct .. ':' .. channelId
local old = redis.call('HGET', P .. 'paired', field)
local seq
if old then seq = cjson.decode(old).seq else seq = redis.call('INCR', P .. 'seq') end
redis.call('HSET', P .. 'paired', field, cjson.encode({channelId = channelId, channelType = ct, label = label,
  pairedAt = int(now), approvedBy = approvedBy, seq = seq}))
redis.call('SADD', P .. 'paired:type:' .. ct, channelId)
local shownName = entryName
if userName ~= '' then shownName = userName end
audit(approvedType, ct, channelId, approvedBy, kind, cjson.encode({userName = shownName, firstMessage = firstMessage}))
return 1
`,
);

/** ARGV[4..]: channelType, channelId, revokedBy. Unpairs and drops the sender's pending request; 1 if anything went. */
export const REVOKE = script(
  "revoke",
  `${PRELUDE}
local ct, id, revokedBy = ARGV[4], ARGV[5], ARGV[6]
local wasPaired = redis.call('HDEL', P .. 'paired', ct .. ':' .. id)
if wasPaired == 1 then redis.call('SREM', P .. 'paired:type:' .. ct, id) end
local hash = redis.call('GET', requestKey(ct, id))
local hadRequest = false
if hash then
  hadRequest = redis.call('EXISTS', P .. 'pending:' .. hash) == 1
  removePending(hash, 'request', ct, id)
end
if wasPaired == 0 and not hadRequest then return 0 end
audit('revoked', ct, id, revokedBy, '', '{}')
return 1
`,
);

/** ARGV[4..]: hash, denyCooldownMs, deniedBy. */
export const DENY = script(
  "deny",
  `${PRELUDE}
local hash, cooldownMs, deniedBy = ARGV[4], tonumber(ARGV[5]), ARGV[6]
sweep()
local e = redis.call('HMGET', P .. 'pending:' .. hash, 'kind', 'channelType', 'channelId')
local kind, ct, id = e[1], e[2], e[3]
if not kind then return 0 end
removePending(hash, kind, ct, id)
if kind == 'request' then
  local untilMs = now + cooldownMs
  redis.call('SET', P .. 'cooldown:' .. ct .. ':' .. id, int(untilMs), 'PX', ttl(untilMs))
end
audit('denied', ct, id, deniedBy, kind, '{}')
return 1
`,
);

/** ARGV[4]: channel type or '' for all. Sweeps, then returns every live entry as an array of PENDING_FIELDS. */
export const LIST_PENDING = script(
  "list-pending",
  `${PRELUDE}
sweep()
local key = ALL
if ARGV[4] ~= '' then key = P .. 'pending:type:' .. ARGV[4] end
local out = {}
for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
  local hash = parseMember(m)
  if hash then
    local e = redis.call('HMGET', P .. 'pending:' .. hash, unpack(PENDING_FIELDS))
    if e[1] then table.insert(out, e) end
  end
end
return out
`,
);

/** ARGV[4..]: channelType, channelId. Sweeps, then returns the sender's live request (PENDING_FIELDS) or nil. */
export const PENDING_FOR = script(
  "pending-for",
  `${PRELUDE}
sweep()
local hash = redis.call('GET', requestKey(ARGV[4], ARGV[5]))
if not hash then return false end
local e = redis.call('HMGET', P .. 'pending:' .. hash, unpack(PENDING_FIELDS))
if not e[1] then return false end
return e
`,
);

/** KEYS[1] = session; ARGV: principal JSON, now, native TTL ms. */
export const SESSION_BIND = script(
  "session-bind",
  `redis.call('HSET', KEYS[1], 'principal', ARGV[1], 'lastSeen', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`,
);

/** KEYS[1] = session; ARGV: now, idle TTL ms, native TTL ms. Forgets an idle session, else refreshes lastSeen. */
export const SESSION_LOOKUP = script(
  "session-lookup",
  `local e = redis.call('HMGET', KEYS[1], 'principal', 'lastSeen')
if not e[1] then return false end
local now = tonumber(ARGV[1])
if now - tonumber(e[2]) >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('HSET', KEYS[1], 'lastSeen', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return e[1]
`,
);

/** KEYS: tokens, token-hashes; ARGV: id, hash, record JSON. Refuses a duplicate id or hash, changing nothing. */
export const TOKEN_INSERT = script(
  "token-insert",
  `if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'id-exists' end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 'hash-exists' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 'ok'
`,
);

/** KEYS: tokens, token-hashes; ARGV: hash. The record JSON or nil. */
export const TOKEN_FIND = script(
  "token-find",
  `local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then return false end
return redis.call('HGET', KEYS[1], id)
`,
);

/** KEYS: tokens, token-hashes; ARGV: id. 1 when a token was deleted. */
export const TOKEN_DELETE = script(
  "token-delete",
  `local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return 0 end
local hash = cjson.decode(record).hash
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[2], hash) == ARGV[1] then redis.call('HDEL', KEYS[2], hash) end
redis.call('XADD', KEYS[3], '*', 'at', ARGV[2], 'type', 'token-revoked', 'channelType', 'token', 'channelId', ARGV[1],
  'actor', 'owner', 'detail', '{}')
return 1
`,
);

/**
 * KEYS[1] = audit stream; ARGV: after (a stream id, or '' to only locate the end), count. One atomic look at the
 * stream for its readers: {entries ever added (-1 before Redis 7), entries now in it, first id, last id, the entries
 * after `after`}. Entries are only ever trimmed from the oldest end, so added - length of them are gone; a reader that
 * has seen fewer than that missed some.
 */
export const AUDIT_TAIL = script(
  "audit-tail",
  `if redis.call('EXISTS', KEYS[1]) == 0 then return {'0', '0', '', '', {}} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local t = {}
for i = 1, #info, 2 do t[info[i]] = info[i + 1] end
local first, last = '', ''
if t['first-entry'] then first = t['first-entry'][1] end
if t['last-entry'] then last = t['last-entry'][1] end
local entries = {}
if ARGV[1] ~= '' then entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2]) end
return {tostring(t['entries-added'] or -1), tostring(t['length']), first, last, entries}
`,
);
