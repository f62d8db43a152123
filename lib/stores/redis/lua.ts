// The Lua run inside Redis, as source text for EVAL: one script per operation, each made of only the chunks it needs.
//
// Redis 7 forbids globals in scripts, so every chunk defines locals only, and a script is the concatenation
// of its chunks in dependency order (see the `script` calls at the end). Every script that changes an event
// takes that event's `reqs` key as KEYS[1]; the event's other keys are named from it and share its hash tag.

/**
 * Kubernetes selector evaluation over requirement lists (`{k, o, v}` as written by the codec) and label
 * tables. `>`/`<` follow Go's strconv.ParseInt(s, 10, 64): Lua numbers are doubles, so int64 values are
 * compared as sign + digit strings, never converted.
 */
export const SELECTOR_LUA = `
local function ns_parse_int64(s)
  if type(s) ~= 'string' or #s == 0 then return false end
  local negative = false
  local body = s
  local sign = string.sub(s, 1, 1)
  if sign == '+' or sign == '-' then
    negative = sign == '-'
    body = string.sub(s, 2)
  end
  if #body == 0 or string.find(body, '[^0-9]') then return false end
  local digits = string.gsub(body, '^0+', '')
  if #digits > 19 then return false end
  if #digits == 19 then
    local limit = negative and '9223372036854775808' or '9223372036854775807'
    if digits > limit then return false end
  end
  if #digits == 0 then negative = false end
  return true, negative, digits
end

local function ns_compare_int64(an, ad, bn, bd)
  if an ~= bn then
    if an then return -1 end
    return 1
  end
  local m = 0
  if #ad ~= #bd then
    if #ad < #bd then m = -1 else m = 1 end
  elseif ad ~= bd then
    if ad < bd then m = -1 else m = 1 end
  end
  if an then return -m end
  return m
end

local function ns_in_values(value, values)
  for _, v in ipairs(values) do
    if v == value then return true end
  end
  return false
end

local function ns_requirement_matches(r, labels)
  local op = r.o
  local value = labels[r.k]
  if type(value) ~= 'string' then value = nil end
  if op == '=' or op == '==' or op == 'in' then
    return value ~= nil and ns_in_values(value, r.v)
  elseif op == '!=' or op == 'notin' then
    return value == nil or not ns_in_values(value, r.v)
  elseif op == 'exists' then
    return value ~= nil
  elseif op == '!' then
    return value == nil
  elseif op == '>' or op == '<' then
    if value == nil or #r.v ~= 1 then return false end
    local ok, ln, ld = ns_parse_int64(value)
    if not ok then return false end
    local rok, rn, rd = ns_parse_int64(r.v[1])
    if not rok then return false end
    local c = ns_compare_int64(ln, ld, rn, rd)
    if op == '>' then return c > 0 end
    return c < 0
  end
  return false
end

local function ns_selector_matches(requirements, labels)
  for _, r in ipairs(requirements) do
    if not ns_requirement_matches(r, labels) then return false end
  end
  return true
end
`;

/**
 * The keys of one event, the server clock and request records. KEYS[1] is the event's `reqs` hash
 * (`<base>reqs`); a record is `owner\nseq\nclass\njson` under the request id.
 */
const EVENT_KEYS_LUA = `
local B = string.sub(KEYS[1], 1, -5)
local K_REQS = KEYS[1]
local K_SEQ = B .. 'seq'
local K_CLS = B .. 'cls'
local K_FAM = B .. 'fam'
local K_OWNERS = B .. 'owners'
local function k_queue(c) return B .. 'q:' .. c end
local function k_own(o) return B .. 'own:' .. o end
local function k_res(id) return B .. 'res:' .. id end
local function k_fc(f) return B .. 'fc:' .. f end
local function k_fl(f, k, v) return B .. 'fl:' .. f .. ':' .. k .. '=' .. v end
local function k_fx(m, k, v) return B .. 'fx:' .. m .. ':' .. k .. '=' .. v end
local function k_fu(m) return B .. 'fu:' .. m end

local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function get_record(id)
  local raw = redis.call('HGET', K_REQS, id)
  if not raw then return nil end
  local o, s, c, j = string.match(raw, '^([^\\n]*)\\n([^\\n]*)\\n([^\\n]*)\\n(.*)$')
  return { id = id, owner = o, seq = tonumber(s), class = c, json = j }
end

local function record_of(owner, seq, c, json)
  return owner .. '\\n' .. seq .. '\\n' .. c .. '\\n' .. json
end
`;

/**
 * Liveness from a snapshot of the instance registry taken by the caller (the registry lives outside the
 * event's slot): \`{t = snapshot server ms, lease = ms, ids = {id, expiry, ...}}\`. An owner the snapshot
 * lists is 'live' (its lease may have been renewed since) unless the snapshot's expiry is more than a lease
 * behind this script's clock. One it does not list is 'dead' if it registered before the snapshot (ids
 * start with their registration time in base 36: its lease had lapsed), and 'live' if it registered after,
 * for a lease or two. Anything else is 'unknown': neither matched nor purged.
 */
const LIVENESS_LUA = `
local LIVE = {}
local SNAP_T = 0
local LEASE = 0
local NOW = 0
local function load_liveness(l, now)
  SNAP_T = tonumber(l.t)
  LEASE = tonumber(l.lease)
  NOW = now
  for i = 1, #l.ids, 2 do LIVE[l.ids[i]] = tonumber(l.ids[i + 1]) end
end

local function liveness(owner)
  local expiry = LIVE[owner]
  if expiry ~= nil then
    if NOW <= expiry + LEASE then return 'live' end
    return 'unknown'
  end
  local stamp = string.match(owner, '^([0-9a-z]+)%-')
  if stamp == nil then return 'dead' end
  local registered = tonumber(stamp, 36)
  if registered < SNAP_T then return 'dead' end
  if NOW <= registered + 2 * LEASE then return 'live' end
  return 'unknown'
end
`;

/**
 * The class index, as MemoryStore keeps it. Per (event, mates) bucket, families (classes sharing a
 * selector) are filed by their anchor value (\`fx:<mates>:<k>=<v>\` sets) or as unanchored (\`fu:<mates>\`);
 * per family, classes are kept in ZSETs scored by the sequence of their oldest request: all of them
 * (\`fc:<family>\`) and by each label (\`fl:<family>:<k>=<v>\`). Class queues are ZSETs \`q:<class>\` by
 * sequence. Definitions: \`cls\` (class → {l, f, m}) and \`fam\` (family → {r, a}).
 */
const INDEX_LUA = `
local MUTATIONS = 0
local cls_cache = {}
local function class_data(c)
  local d = cls_cache[c]
  if d == nil then
    d = cjson.decode(redis.call('HGET', K_CLS, c))
    cls_cache[c] = d
  end
  return d
end

local fam_cache = {}
local function family_data(f)
  local d = fam_cache[f]
  if d == nil then
    d = cjson.decode(redis.call('HGET', K_FAM, f))
    fam_cache[f] = d
  end
  return d
end

local function file_class(c, score)
  local d = class_data(c)
  redis.call('ZADD', k_fc(d.f), score, c)
  for k, v in pairs(d.l) do redis.call('ZADD', k_fl(d.f, k, v), score, c) end
end

local function unfile_class(c)
  local d = class_data(c)
  redis.call('ZREM', k_fc(d.f), c)
  for k, v in pairs(d.l) do redis.call('ZREM', k_fl(d.f, k, v), c) end
  redis.call('HDEL', K_CLS, c)
  if redis.call('EXISTS', k_fc(d.f)) == 0 then
    local fd = family_data(d.f)
    if fd.a then
      for _, v in ipairs(fd.a.v) do redis.call('SREM', k_fx(d.m, fd.a.k, v), d.f) end
    else
      redis.call('SREM', k_fu(d.m), d.f)
    end
    redis.call('HDEL', K_FAM, d.f)
  end
end

-- After the head of class c left: re-score it by its new head, or drop it when empty.
local function rescore_class(c)
  local head = redis.call('ZRANGE', k_queue(c), 0, 0, 'WITHSCORES')
  if head[1] == nil then
    unfile_class(c)
  else
    file_class(c, head[2])
  end
end

local function remove_request(rec)
  MUTATIONS = MUTATIONS + 1
  redis.call('HDEL', K_REQS, rec.id)
  local own = k_own(rec.owner)
  redis.call('SREM', own, rec.id)
  if redis.call('EXISTS', own) == 0 then redis.call('SREM', K_OWNERS, rec.owner) end
  local q = k_queue(rec.class)
  local head = redis.call('ZRANGE', q, 0, 0)[1]
  redis.call('ZREM', q, rec.id)
  if head == rec.id then rescore_class(rec.class) end
end

-- When the event has no record left: forget its counter and answer Redis's time in µs (the caller then
-- drops the event from the index unless an offer announced it again after that time); else nil.
local function forget_event_if_empty()
  if redis.call('EXISTS', K_REQS) == 1 then return nil end
  redis.call('DEL', K_SEQ)
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end
`;

/**
 * Offer (idempotent by id). KEYS[1] the event's reqs. ARGV[1] options JSON: {id, owner, c (class), f (family),
 * m (mates), cls, fam (class and family definitions as JSON text), ev (event as JSON text), ch (channel
 * prefix), ttl (result ms), dl (deadline, server ms), budget, live (liveness snapshot), done (optional: ids of
 * this event whose results their owner has read, made tombstones of tomb ms, as CONSUME does)}; ARGV[2] the request
 * JSON. Returns {'late'} (refused: past its deadline, not entered), {'withdrawn'} (a tombstone: withdrawn or
 * already read), {'pending'} ({'pending', 'first'} when the event had no record before: the caller then
 * announces the event to the index), or {'group', message, empty since (µs) or nil}. A request already pending is kept, with its owner
 * updated to this instance (it keeps its place); one whose group formed gets that group again.
 */
const OFFER_BODY = `
local o = cjson.decode(ARGV[1])
local request_json = ARGV[2]
if o.done then
  for _, rid in ipairs(o.done) do redis.call('SET', k_res(rid), '', 'PX', tonumber(o.tomb), 'XX') end
end
local now = server_ms()
if now > tonumber(o.dl) then return { 'late' } end
local id = o.id
local self_id = o.owner
local done = redis.call('GET', k_res(id))
if done then
  if done == '' then return { 'withdrawn' } end
  return { 'group', done }
end
local existing = get_record(id)
if existing ~= nil then
  if existing.owner ~= self_id then
    redis.call('HSET', K_REQS, id, record_of(self_id, existing.seq, existing.class, existing.json))
    redis.call('SREM', k_own(existing.owner), id)
    if redis.call('EXISTS', k_own(existing.owner)) == 0 then redis.call('SREM', K_OWNERS, existing.owner) end
    redis.call('SADD', k_own(self_id), id)
    redis.call('SADD', K_OWNERS, self_id)
  end
  return { 'pending' }
end
load_liveness(o.live, now)

local my_c, my_f, mates = o.c, o.f, tonumber(o.m)
local mine = cjson.decode(o.cls)
local my_fam = cjson.decode(o.fam)
cls_cache[my_c] = mine
fam_cache[my_f] = my_fam

-- The families of this bucket that may accept the newcomer's labels.
local families = {}
for _, f in ipairs(redis.call('SMEMBERS', k_fu(mates))) do families[#families + 1] = f end
for k, v in pairs(mine.l) do
  for _, f in ipairs(redis.call('SMEMBERS', k_fx(mates, k, v))) do families[#families + 1] = f end
end

-- For each accepting family, the class ZSETs that may hold classes the newcomer accepts.
local zsets = {}
for _, f in ipairs(families) do
  local fd = family_data(f)
  if ns_selector_matches(fd.r, mine.l) then
    if my_fam.a then
      for _, v in ipairs(my_fam.a.v) do zsets[#zsets + 1] = k_fl(f, my_fam.a.k, v) end
    else
      zsets[#zsets + 1] = k_fc(f)
    end
  end
end

-- The first \`limit\` live requests of class c, skipping owners of unknown liveness (at most a few) and
-- purging dead ones.
local function live_heads(c, limit, out)
  local q = k_queue(c)
  local pos = 0
  local taken = 0
  local skipped = 0
  while taken < limit and skipped <= 64 do
    local ids = redis.call('ZRANGE', q, pos, pos)
    local rid = ids[1]
    if rid == nil then break end
    local rec = get_record(rid)
    if rec == nil then
      redis.call('ZREM', q, rid)
      if pos == 0 then rescore_class(c) end
    else
      local state = liveness(rec.owner)
      if state == 'live' then
        out[#out + 1] = rec
        taken = taken + 1
        pos = pos + 1
      elseif state == 'unknown' then
        skipped = skipped + 1
        pos = pos + 1
      else
        remove_request(rec)
      end
    end
  end
end

-- Calls visit(class, score) over a class ZSET in score order until it returns true; survives purges
-- made by visit (a purged class moves later or leaves, so the same position is read again).
local function walk(z, visit)
  local pos = 0
  while true do
    local page = redis.call('ZRANGE', z, pos, pos + 31, 'WITHSCORES')
    if #page == 0 then return end
    local i = 1
    while i <= #page do
      local before = MUTATIONS
      if visit(page[i], tonumber(page[i + 1])) then return end
      if MUTATIONS ~= before then break end
      pos = pos + 1
      i = i + 2
    end
  end
end

local chosen = nil
if mates == 1 then
  local best = nil
  for _, z in ipairs(zsets) do
    walk(z, function(c, score)
      if best ~= nil and score >= best.seq then return true end
      if not ns_selector_matches(my_fam.r, class_data(c).l) then return false end
      local heads = {}
      live_heads(c, 1, heads)
      local head = heads[1]
      if head ~= nil and (best == nil or head.seq < best.seq) then best = head end
      return false
    end)
  end
  if best ~= nil then chosen = { best } end
else
  local candidates = {}
  local seen = {}
  for _, z in ipairs(zsets) do
    walk(z, function(c)
      if seen[c] then return false end
      if not ns_selector_matches(my_fam.r, class_data(c).l) then
        seen[c] = true
        return false
      end
      local before = MUTATIONS
      local heads = {}
      live_heads(c, mates, heads)
      if MUTATIONS == before then
        seen[c] = true
        for _, h in ipairs(heads) do candidates[#candidates + 1] = h end
      end
      return false
    end)
  end
  if #candidates >= mates then
    table.sort(candidates, function(a, b) return a.seq < b.seq end)
    local verdicts = {}
    local function compatible(a, b)
      local key = a < b and (a .. '|' .. b) or (b .. '|' .. a)
      local v = verdicts[key]
      if v == nil then
        local da, db = class_data(a), class_data(b)
        v = ns_selector_matches(family_data(da.f).r, db.l) and ns_selector_matches(family_data(db.f).r, da.l)
        verdicts[key] = v
      end
      return v
    end
    local budget = tonumber(o.budget)
    local picked = {}
    local steps = 0
    local search
    search = function(from)
      if #picked == mates then return true end
      local i = from
      while i <= #candidates - (mates - #picked) + 1 do
        steps = steps + 1
        if steps > budget then return false end
        local candidate = candidates[i]
        local fits = true
        for _, p in ipairs(picked) do
          if not compatible(p.class, candidate.class) then
            fits = false
            break
          end
        end
        if fits then
          picked[#picked + 1] = candidate
          if search(i + 1) then return true end
          picked[#picked] = nil
          if steps > budget then return false end
        end
        i = i + 1
      end
      return false
    end
    if search(1) then chosen = picked end
  end
end

if chosen == nil then
  local first = redis.call('EXISTS', K_REQS) == 0
  local seq = redis.call('INCR', K_SEQ)
  redis.call('HSET', K_REQS, id, record_of(self_id, seq, my_c, request_json))
  redis.call('SADD', k_own(self_id), id)
  redis.call('SADD', K_OWNERS, self_id)
  local q = k_queue(my_c)
  redis.call('ZADD', q, seq, id)
  if redis.call('ZCARD', q) == 1 then
    redis.call('HSET', K_CLS, my_c, o.cls)
    if redis.call('HSETNX', K_FAM, my_f, o.fam) == 1 then
      if my_fam.a then
        for _, v in ipairs(my_fam.a.v) do redis.call('SADD', k_fx(mates, my_fam.a.k, v), my_f) end
      else
        redis.call('SADD', k_fu(mates), my_f)
      end
    end
    file_class(my_c, seq)
  end
  if first then return { 'pending', 'first' } end
  return { 'pending' }
end

local parts = {}
for _, rec in ipairs(chosen) do
  remove_request(rec)
  parts[#parts + 1] = rec.json
end
parts[#parts + 1] = request_json
local empty_at = forget_event_if_empty()

local message = '{"event":' .. o.ev .. ',"members":[' .. table.concat(parts, ',') .. ']}'
local ttl = tonumber(o.ttl)
redis.call('SET', k_res(id), message, 'PX', ttl)
local notified = { [self_id] = true }
for _, rec in ipairs(chosen) do
  redis.call('SET', k_res(rec.id), message, 'PX', ttl)
  if not notified[rec.owner] then
    notified[rec.owner] = true
    redis.call('PUBLISH', o.ch .. rec.owner, message)
  end
end
return { 'group', message, empty_at }
`;

/**
 * Withdraw (idempotent by id). KEYS[1] the event's reqs. ARGV[1] request id, ARGV[2] tombstone ms.
 * Leaves a tombstone so a delayed or retried offer of the same id never enters. Returns {'removed', empty
 * since (µs) or nil} (it was pending), {'absent'} (it was not pending and is in no group), or {'group', message}.
 */
const WITHDRAW_BODY = `
local id = ARGV[1]
local done = redis.call('GET', k_res(id))
if done and done ~= '' then return { 'group', done } end
local rec = get_record(id)
redis.call('SET', k_res(id), '', 'PX', tonumber(ARGV[2]))
if rec == nil then return { 'absent' } end
remove_request(rec)
return { 'removed', forget_event_if_empty() }
`;

/**
 * Sweep: purge the records of dead owners of one event, at most ARGV[2] of them. KEYS[1] the event's reqs.
 * ARGV[1] the liveness snapshot JSON. Returns {purged, empty since (µs) or nil}.
 */
const SWEEP_BODY = `
load_liveness(cjson.decode(ARGV[1]), server_ms())
local budget = tonumber(ARGV[2])
local purged = 0
for _, owner in ipairs(redis.call('SMEMBERS', K_OWNERS)) do
  if purged >= budget then break end
  if liveness(owner) == 'dead' then
    local own = k_own(owner)
    for _, rid in ipairs(redis.call('SRANDMEMBER', own, budget - purged)) do
      local rec = get_record(rid)
      if rec == nil then
        redis.call('SREM', own, rid)
      else
        remove_request(rec)
      end
      purged = purged + 1
    end
    if redis.call('EXISTS', own) == 0 then redis.call('SREM', K_OWNERS, owner) end
  end
end
return { purged, forget_event_if_empty() }
`;

/** One page of an event's pending records. KEYS[1] the event's reqs; ARGV[1] cursor, ARGV[2] count. Returns HSCAN's reply. */
const LIST_BODY = `
return redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
`;

function script(...chunks: string[]): string {
  return chunks.join('\n');
}

export const OFFER_LUA = script(SELECTOR_LUA, EVENT_KEYS_LUA, LIVENESS_LUA, INDEX_LUA, OFFER_BODY);
export const WITHDRAW_LUA = script(EVENT_KEYS_LUA, INDEX_LUA, WITHDRAW_BODY);
export const SWEEP_LUA = script(EVENT_KEYS_LUA, LIVENESS_LUA, INDEX_LUA, SWEEP_BODY);
export const LIST_LUA = LIST_BODY;

/**
 * Mark results read: each result key in KEYS (one event's) becomes an empty tombstone for ARGV[1] ms, so
 * a late retry of the offer learns it is settled instead of entering again.
 */
export const CONSUME_LUA = `
for _, key in ipairs(KEYS) do redis.call('SET', key, '', 'PX', tonumber(ARGV[1]), 'XX') end
return #KEYS
`;

/**
 * The instance registry, a ZSET id → lease expiry (server ms), outside every event slot. KEYS[1] registry.
 * ARGV[1] op: `register` (ARGV[2] random suffix, ARGV[3] lease ms, ARGV[4..] ids this process left behind),
 * `refresh` (ARGV[2] id, ARGV[3] lease ms), `leave` (ARGV[2] id), `peek`. Ids start with the registration
 * time in base 36, so a reader can tell "registered after my snapshot" from "expired".
 * Returns {id or '', server now, {id, expiry, ...}} or {'lapsed'}.
 */
export const REGISTRY_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
local op = ARGV[1]
local id = ''
if op == 'register' then
  local digits = '0123456789abcdefghijklmnopqrstuvwxyz'
  local n = now
  local stamp = ''
  repeat
    local d = n % 36
    stamp = string.sub(digits, d + 1, d + 1) .. stamp
    n = math.floor(n / 36)
  until n == 0
  id = stamp .. '-' .. ARGV[2]
  for i = 4, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), id)
elseif op == 'refresh' then
  id = ARGV[2]
  if not redis.call('ZSCORE', KEYS[1], id) then return { 'lapsed' } end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), id)
elseif op == 'leave' then
  redis.call('ZREM', KEYS[1], ARGV[2])
end
return { id, tostring(now), redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') }
`;

/**
 * The events with pending requests, a ZSET event → when an offer last announced it (server µs), for /stats
 * and the sweep. KEYS[1] the set. ARGV[1] op: `page` (ARGV[2] cursor, ARGV[3] count: ZSCAN's reply), or
 * `update` (ARGV[2] n, then n events to announce, then pairs of event and the time it was found empty,
 * server µs: each such event is removed unless announced since). Announcements go first, so an event
 * announced and found empty in one batch stays until the sweep looks again.
 */
export const EVENTS_LUA = `
if ARGV[1] == 'page' then return redis.call('ZSCAN', KEYS[1], ARGV[2], 'COUNT', ARGV[3]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[2])
for i = 3, 2 + n do redis.call('ZADD', KEYS[1], now, ARGV[i]) end
local removed = 0
for i = 3 + n, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < tonumber(ARGV[i + 1]) then removed = removed + redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return removed
`;
