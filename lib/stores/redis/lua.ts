// The Lua run inside Redis, as source text for EVAL: one script per operation, each made of only the chunks it needs.
import { CLOSE_BODY, SEARCH_LUA, WINDOW_LUA } from './groups';
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
 * (`<base>reqs`); a record is `owner\nseq\nclass\nstage\njson` under the request id.
 */
const EVENT_KEYS_LUA = `
local B = string.sub(KEYS[1], 1, -5)
local K_REQS = KEYS[1]
local K_SEQ = B .. 'seq'
local K_CLS = B .. 'cls'
local K_FAM = B .. 'fam'
local K_OWNERS = B .. 'owners'
local K_WIN = B .. 'win'
local function k_queue(c) return B .. 'q:' .. c end
local function k_own(o) return B .. 'own:' .. o end
local function k_res(id) return B .. 'res:' .. id end
local function k_fc(f) return B .. 'fc:' .. f end
local function k_fl(f, k, v) return B .. 'fl:' .. f .. ':' .. k .. '=' .. v end
local function k_fx(s, k, v) return B .. 'fx:' .. s .. ':' .. k .. '=' .. v end
local function k_fu(s) return B .. 'fu:' .. s end
local function k_pz(s) return B .. 'pz:' .. s end

local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function get_record(id)
  local raw = redis.call('HGET', K_REQS, id)
  if not raw then return nil end
  local o, s, c, st, j = string.match(raw, '^([^\\n]*)\\n([^\\n]*)\\n([^\\n]*)\\n([^\\n]*)\\n(.*)$')
  return { id = id, owner = o, seq = tonumber(s), class = c, stage = tonumber(st), json = j }
end

local function record_of(owner, seq, c, stage, json)
  return owner .. '\\n' .. seq .. '\\n' .. c .. '\\n' .. stage .. '\\n' .. json
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
 * The class index, as MemoryStore keeps it. Per (event, spec) bucket, families (classes sharing a
 * selector) are filed by their anchor value (\`fx:<spec>:<k>=<v>\` sets) or as unanchored (\`fu:<spec>\`),
 * range buckets mark in \`pz:<spec>\` (ZSET id → seq) the requests that were in a possible group of MIN+1 when
 * filed: every possible group holds one, so the searches linger windows need start from those only;
 * per family, classes are kept in ZSETs scored by the sequence of their oldest request: all of them
 * (\`fc:<family>\`) and by each label (\`fl:<family>:<k>=<v>\`). Class queues are ZSETs \`q:<class>\` by
 * sequence. Definitions: \`cls\` (class → {l, f, m = spec key}) and \`fam\` (family → {r, a}).
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

-- Requests removed by this script, by bucket (spec key → id → true): a window whose witness lost one
-- is reviewed before the script ends (review_windows).
local REMOVED = {}

local function remove_request(rec)
  MUTATIONS = MUTATIONS + 1
  local m = class_data(rec.class).m
  local removed = REMOVED[m]
  if removed == nil then
    removed = {}
    REMOVED[m] = removed
  end
  removed[rec.id] = true
  if string.find(m, '..', 1, true) then redis.call('ZREM', k_pz(m), rec.id) end
  redis.call('HDEL', K_REQS, rec.id)
  local own = k_own(rec.owner)
  redis.call('SREM', own, rec.id)
  if redis.call('EXISTS', own) == 0 then redis.call('SREM', K_OWNERS, rec.owner) end
  local q = k_queue(rec.class)
  local head = redis.call('ZRANGE', q, 0, 0)[1]
  redis.call('ZREM', q, rec.id)
  if head == rec.id then rescore_class(rec.class) end
end

-- File a pending request into class c (its definition cls_json, family f with definition fam_json and
-- decoded fam, bucket spec_key) under arrival sequence seq: a new one's, or a moved one's original.
local function insert_request(id, owner, seq, stage, json, c, cls_json, f, fam_json, fam, spec_key)
  redis.call('HSET', K_REQS, id, record_of(owner, seq, c, stage, json))
  redis.call('SADD', k_own(owner), id)
  redis.call('SADD', K_OWNERS, owner)
  local q = k_queue(c)
  redis.call('ZADD', q, seq, id)
  if redis.call('ZCARD', q) == 1 then
    redis.call('HSET', K_CLS, c, cls_json)
    if redis.call('HSETNX', K_FAM, f, fam_json) == 1 then
      if fam.a then
        for _, v in ipairs(fam.a.v) do redis.call('SADD', k_fx(spec_key, fam.a.k, v), f) end
      else
        redis.call('SADD', k_fu(spec_key), f)
      end
    end
  end
  -- A moved request may come back ahead of its class's other requests: the class is scored by its head.
  if redis.call('ZRANGE', q, 0, 0)[1] == id then file_class(c, seq) end
end

-- When the event has no record left: forget its counter and answer Redis's time in µs (the caller then
-- drops the event from the index unless an offer announced it again after that time); else nil.
local function forget_event_if_empty()
  if redis.call('EXISTS', K_REQS) == 1 then return nil end
  redis.call('DEL', K_SEQ, K_WIN)
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end
`;

/**
 * Offer (idempotent by id), and stage changes. KEYS[1] the event's reqs. ARGV[1] options JSON: {id, owner,
 * c (class), f (family), s (spec key), st (stage), cls, fam (class and family definitions as JSON text), ev
 * (event as JSON text), ch (channel prefix), ttl (result ms), dl (deadline, server ms; offers only), budget,
 * live (liveness snapshot), mode ('update' for a stage change: never enters a request that is not pending),
 * done (optional: ids of this event whose results their owner has read, made tombstones of tomb ms, as
 * CONSUME does)}; ARGV[2] the request JSON (offers only).
 * Returns one of:
 *   {'late'}                refused: past its deadline, not entered
 *   {'withdrawn'}           a tombstone: withdrawn or already read
 *   {'absent'}              an update of a request neither pending nor settled
 *   {'settled', message}    an update of a request whose group formed before
 *   {'group', message, empty since (µs) or ''}
 *   {'pending', 'first' or '', window deadline or '', server now, ids of a window opened now (JSON) or ''}
 *                           'first' when the event had no record before: the caller then announces the event
 * A request already pending keeps its place, with its owner updated to this instance; if the call carries a
 * later stage than its record, it moves to the new class keeping its sequence and is searched for as an
 * arrival. One whose group formed gets that group again.
 */
const OFFER_BODY = `
local o = cjson.decode(ARGV[1])
if o.done then
  for _, rid in ipairs(o.done) do redis.call('SET', k_res(rid), '', 'PX', tonumber(o.tomb), 'XX') end
end
local now = server_ms()
if o.dl and now > tonumber(o.dl) then return { 'late' } end
local id = o.id
local self_id = o.owner
local stage = tonumber(o.st)
local spec = parse_spec(o.s)
local done = redis.call('GET', k_res(id))
if done then
  if done == '' then return { 'withdrawn' } end
  if o.mode == 'update' then return { 'settled', done } end
  return { 'group', done }
end
local R = {
  id = id, owner = self_id, stage = stage, c = o.c, f = o.f, cls = o.cls, fam = o.fam,
  mine = cjson.decode(o.cls), my_fam = cjson.decode(o.fam),
}
local existing = get_record(id)
if existing ~= nil then
  if existing.stage >= stage then
    if existing.owner ~= self_id then
      redis.call('HSET', K_REQS, id, record_of(self_id, existing.seq, existing.class, existing.stage, existing.json))
      redis.call('SREM', k_own(existing.owner), id)
      if redis.call('EXISTS', k_own(existing.owner)) == 0 then redis.call('SREM', K_OWNERS, existing.owner) end
      redis.call('SADD', k_own(self_id), id)
      redis.call('SADD', K_OWNERS, self_id)
    end
    local deadline = spec.range and window_deadline(spec.key) or nil
    return { 'pending', '', deadline and string.format('%d', deadline) or '', string.format('%d', now), '' }
  end
  load_liveness(o.live, now)
  remove_request(existing)
  R.seq = existing.seq
  R.json = existing.json
  return arrive(R, spec, o, now)
end
if o.mode == 'update' then return { 'absent' } end
load_liveness(o.live, now)
R.json = ARGV[2]
return arrive(R, spec, o, now)
`;

/**
 * Withdraw (idempotent by id). KEYS[1] the event's reqs. ARGV[1] request id, ARGV[2] tombstone ms, ARGV[3]
 * (optional) a liveness snapshot JSON and ARGV[4] the search budget, to review the request's linger window
 * when it was part of the window's witness (another possible group, or the window closes). Leaves a tombstone so a delayed or retried offer of the same id
 * never enters. Returns {'removed', empty since (µs) or nil} (it was pending), {'absent'} (it was not
 * pending and is in no group), or {'group', message}.
 */
const WITHDRAW_BODY = `
local id = ARGV[1]
local done = redis.call('GET', k_res(id))
if done and done ~= '' then return { 'group', done } end
local rec = get_record(id)
redis.call('SET', k_res(id), '', 'PX', tonumber(ARGV[2]))
if rec == nil then return { 'absent' } end
remove_request(rec)
-- Without a liveness snapshot no search can run: the window then stays until its deadline, when CLOSE
-- finds whether a group is still possible.
if ARGV[3] and ARGV[3] ~= '' then
  load_liveness(cjson.decode(ARGV[3]), server_ms())
  review_windows(tonumber(ARGV[4]))
end
return { 'removed', forget_event_if_empty() }
`;

/**
 * Sweep: purge the records of dead owners of one event, at most ARGV[2] of them, then review the linger
 * windows whose witness lost a member. KEYS[1] the event's reqs. ARGV[1] the liveness snapshot
 * JSON, ARGV[3] the search budget. Returns {purged, empty since (µs) or nil}.
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
review_windows(tonumber(ARGV[3]))
return { purged, forget_event_if_empty() }
`;

/** One page of an event's pending records. KEYS[1] the event's reqs; ARGV[1] cursor, ARGV[2] count. Returns HSCAN's reply. */
const LIST_BODY = `
return redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
`;

function script(...chunks: string[]): string {
  return chunks.join('\n');
}

/** Every chunk a script that may form groups or judge windows needs, in dependency order. */
const MATCHER = [SELECTOR_LUA, EVENT_KEYS_LUA, LIVENESS_LUA, INDEX_LUA, SEARCH_LUA, WINDOW_LUA];

export const OFFER_LUA = script(...MATCHER, OFFER_BODY);
export const WITHDRAW_LUA = script(...MATCHER, WITHDRAW_BODY);
export const SWEEP_LUA = script(...MATCHER, SWEEP_BODY);
export const CLOSE_LUA = script(...MATCHER, CLOSE_BODY);
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
