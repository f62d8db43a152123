// The Lua run inside Redis: the label-selector evaluator and the atomic matcher, as source text for EVAL.
//
// Redis 7 forbids globals in scripts, so every chunk below defines locals only and the scripts are
// made by concatenation: the evaluator first, then the per-event helpers, then one operation.

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
 * Helpers over one event's keys, all derived from KEYS[1] (the event's `prefix{tag}:` base, so every key
 * is in one cluster slot). A pending request is a field of `reqs`: `owner\\nseq\\nclass\\nmates\\njson`.
 * Liveness comes from ARGV as a snapshot of the instance registry (see redis.ts): an owner is live when it
 * is listed, or registered after the snapshot was taken.
 */
const EVENT_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local base = KEYS[1]
local K_SEQ = base .. 'seq'
local K_REQS = base .. 'reqs'
local K_CLASSES = base .. 'classes'
local K_COMPAT = base .. 'compat'
local function k_queue(c) return base .. 'q:' .. c end
local function k_bucket(m) return base .. 'm:' .. m end
local function k_partners(c) return base .. 'cp:' .. c end
local function k_result(id) return base .. 'res:' .. id end

local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function parse_record(id, raw)
  local o, s, c, m, j = string.match(raw, '^([^\\n]*)\\n([^\\n]*)\\n([^\\n]*)\\n([^\\n]*)\\n(.*)$')
  return { id = id, owner = o, seq = tonumber(s), class = c, mates = m, json = j }
end

local function get_record(id)
  local raw = redis.call('HGET', K_REQS, id)
  if not raw then return nil end
  return parse_record(id, raw)
end

local live = {}
local snapshot_time = 0
local function read_liveness(at)
  snapshot_time = tonumber(ARGV[at])
  local n = tonumber(ARGV[at + 1])
  for i = 1, n do live[ARGV[at + 1 + i]] = true end
  return at + 2 + n
end

local function is_live(owner)
  if live[owner] then return true end
  local registered = string.match(owner, '^([0-9a-z]+)%-')
  return registered ~= nil and tonumber(registered, 36) >= snapshot_time
end

local function pair_key(a, b)
  if a < b then return a .. '|' .. b end
  return b .. '|' .. a
end

local function drop_class(c, mates)
  redis.call('ZREM', k_bucket(mates), c)
  redis.call('HDEL', K_CLASSES, c)
  local partners = redis.call('SMEMBERS', k_partners(c))
  for _, p in ipairs(partners) do
    redis.call('HDEL', K_COMPAT, pair_key(c, p))
    if p ~= c then redis.call('SREM', k_partners(p), c) end
  end
  redis.call('DEL', k_partners(c))
end

local function remove_request(rec)
  redis.call('HDEL', K_REQS, rec.id)
  local q = k_queue(rec.class)
  local head = redis.call('LINDEX', q, 0)
  redis.call('LREM', q, 1, rec.id)
  if head == rec.id then
    local next_id = redis.call('LINDEX', q, 0)
    if next_id then
      local next_rec = get_record(next_id)
      redis.call('ZADD', k_bucket(rec.mates), next_rec.seq, rec.class)
    else
      drop_class(rec.class, rec.mates)
    end
  end
end

local function forget_event_if_empty()
  if redis.call('HLEN', K_REQS) == 0 then redis.call('DEL', K_SEQ) end
end

local class_cache = {}
local function class_data(c)
  local d = class_cache[c]
  if d == nil then
    d = cjson.decode(redis.call('HGET', K_CLASSES, c))
    class_cache[c] = d
  end
  return d
end

local compat_cache = {}
local function compatible(a, b)
  local pk = pair_key(a, b)
  local v = compat_cache[pk]
  if v ~= nil then return v end
  local cached = redis.call('HGET', K_COMPAT, pk)
  if cached then
    v = cached == '1'
  else
    local da, db = class_data(a), class_data(b)
    v = ns_selector_matches(da.r, db.l) and ns_selector_matches(db.r, da.l)
    redis.call('HSET', K_COMPAT, pk, v and '1' or '0')
    redis.call('SADD', k_partners(a), b)
    redis.call('SADD', k_partners(b), a)
  end
  compat_cache[pk] = v
  return v
end

-- The first \`limit\` live requests of class c, purging requests of dead owners met on the way.
local function live_heads(c, limit, out)
  local q = k_queue(c)
  local index = 0
  local taken = 0
  while taken < limit do
    local id = redis.call('LINDEX', q, index)
    if not id then break end
    local rec = get_record(id)
    if rec == nil then
      redis.call('LREM', q, 1, id)
    elseif is_live(rec.owner) then
      out[#out + 1] = rec
      taken = taken + 1
      index = index + 1
    else
      remove_request(rec)
    end
  end
end
`;

/**
 * Offer. KEYS[1] event base. ARGV: self instance id, deadline (server ms), request id, class id, mates,
 * request JSON, class JSON, event JSON, channel prefix, result TTL ms, search budget, then the liveness
 * snapshot (time, count, ids). Returns {'late'}, {'pending'} or {'group', message}.
 */
const OFFER_BODY = `
local self_id = ARGV[1]
local deadline = tonumber(ARGV[2])
local id = ARGV[3]
local cls = ARGV[4]
local mates = tonumber(ARGV[5])
local request_json = ARGV[6]
local class_json = ARGV[7]
local event_json = ARGV[8]
local channel_prefix = ARGV[9]
local result_ttl = ARGV[10]
local budget = tonumber(ARGV[11])
read_liveness(12)

if server_now() > deadline then return { 'late' } end
if redis.call('HEXISTS', K_REQS, id) == 1 then return { 'pending' } end
redis.call('HSETNX', K_CLASSES, cls, class_json)

local classes = redis.call('ZRANGE', k_bucket(mates), 0, -1, 'WITHSCORES')
local chosen = nil
if mates == 1 then
  local best = nil
  for i = 1, #classes, 2 do
    local other = classes[i]
    if best ~= nil and tonumber(classes[i + 1]) > best.seq then break end
    if compatible(cls, other) then
      local heads = {}
      live_heads(other, 1, heads)
      local head = heads[1]
      if head ~= nil and (best == nil or head.seq < best.seq) then best = head end
    end
  end
  if best ~= nil then chosen = { best } end
else
  local candidates = {}
  for i = 1, #classes, 2 do
    local other = classes[i]
    if compatible(cls, other) then live_heads(other, mates, candidates) end
  end
  if #candidates >= mates then
    table.sort(candidates, function(a, b) return a.seq < b.seq end)
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
  local seq = redis.call('INCR', K_SEQ)
  local q = k_queue(cls)
  redis.call('RPUSH', q, id)
  redis.call('HSET', K_REQS, id, self_id .. '\\n' .. seq .. '\\n' .. cls .. '\\n' .. mates .. '\\n' .. request_json)
  if redis.call('LLEN', q) == 1 then redis.call('ZADD', k_bucket(mates), seq, cls) end
  return { 'pending' }
end

local parts = {}
for _, rec in ipairs(chosen) do
  remove_request(rec)
  parts[#parts + 1] = rec.json
end
parts[#parts + 1] = request_json
if redis.call('LLEN', k_queue(cls)) == 0 then drop_class(cls, mates) end
forget_event_if_empty()

local message = '{"event":' .. event_json .. ',"members":[' .. table.concat(parts, ',') .. ']}'
local notified = {}
for _, rec in ipairs(chosen) do
  if rec.owner ~= self_id then
    redis.call('SET', k_result(rec.id), message, 'PX', result_ttl)
    if not notified[rec.owner] then
      notified[rec.owner] = true
      redis.call('PUBLISH', channel_prefix .. rec.owner, message)
    end
  end
end
return { 'group', message }
`;

/** Withdraw. KEYS[1] event base. ARGV[1] request id. Returns 1 if it was still pending, else 0. */
const WITHDRAW_BODY = `
local rec = get_record(ARGV[1])
if rec == nil then return 0 end
remove_request(rec)
forget_event_if_empty()
return 1
`;

/** Every pending record of one event (raw; the caller filters by liveness). KEYS[1] event base. */
const LIST_BODY = `
return redis.call('HVALS', K_REQS)
`;

/** The matcher scripts, each a self-contained chunk. */
export const OFFER_LUA = SELECTOR_LUA + EVENT_LUA + OFFER_BODY;
export const WITHDRAW_LUA = SELECTOR_LUA + EVENT_LUA + WITHDRAW_BODY;
export const LIST_LUA = SELECTOR_LUA + EVENT_LUA + LIST_BODY;

/** A stored group result of one request (KEYS[1]), for recovery after a pub/sub gap. */
export const RESULT_LUA = `return redis.call('GET', KEYS[1])`;

/**
 * The instance registry, a ZSET id → lease expiry (server ms), outside every event slot. KEYS[1] registry.
 * ARGV[1] op: `register` (ARGV[2] random suffix, ARGV[3] lease ms, ARGV[4..] ids this process abandoned),
 * `refresh` (ARGV[2] id, ARGV[3] lease ms), `leave` (ARGV[2] id), `peek`. Ids start with the registration
 * time in base 36, so a reader can tell "registered after my snapshot" from "expired".
 * Returns {id or '', server now, live ids} or {'lapsed'}.
 */
export const REGISTRY_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
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
return { id, tostring(now), redis.call('ZRANGE', KEYS[1], 0, -1) }
`;

/** The lease key of one instance (KEYS[1]): ARGV[1] ms to live, or 0 to delete it. For operators and tooling. */
export const LEASE_LUA = `
if ARGV[1] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
`;

/**
 * The events with pending requests, a ZSET event → last offer (server ms), for /stats. KEYS[1] the set.
 * ARGV[1] op: `touch` (ARGV[2] event), `list`, `prune` (ARGV[2] age ms, ARGV[3..] events seen empty).
 */
export const EVENTS_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local op = ARGV[1]
if op == 'list' then return redis.call('ZRANGE', KEYS[1], 0, -1) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if op == 'touch' then return redis.call('ZADD', KEYS[1], now, ARGV[2]) end
local cutoff = now - tonumber(ARGV[2])
for i = 3, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < cutoff then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return 0
`;
