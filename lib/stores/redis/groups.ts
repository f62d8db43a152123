// The Lua that forms groups: candidate search, bounded clique search, delivery, linger windows and the CLOSE script.
//
// Chunks here define locals only (Redis 7 forbids globals) and come after SELECTOR, EVENT_KEYS, LIVENESS and
// INDEX in a script (see lua.ts). A bucket is an event's requests of one spec key (`"N"` exact, or
// `"MIN..MAX~LINGERMS"` for a range, as specKeyOf writes it); only requests of one bucket ever meet.

/**
 * Candidates and cliques. Candidates are pending records `{id, owner, seq, class, stage, json}`, sorted by
 * seq; a clique is the lexicographically first set of `size` pairwise-compatible candidates (oldest first,
 * as in MemoryStore), found depth-first within a step budget shared through `state.left`.
 */
export const SEARCH_LUA = `
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

local function by_seq(a, b) return a.seq < b.seq end

-- The candidates that may be in a clique of \`size\`: a member's selector (its family's) must accept the labels
-- of size - 1 other candidates. Counted once per family, with at most \`budget\` selector checks (past them,
-- the rest is kept as it is). A backlog that meets nobody (each one's selector rejects all the others) is
-- then dropped in one pass, instead of costing the depth-first search its whole budget.
local function plausible(candidates, size, budget)
  if size < 2 then return candidates end
  local need = size - 1
  local accepted = {}
  local checks = 0
  local out = {}
  for _, c in ipairs(candidates) do
    local d = class_data(c.class)
    local n = accepted[d.f]
    if n == nil and checks < budget then
      local r = family_data(d.f).r
      n = 0
      for _, other in ipairs(candidates) do
        checks = checks + 1
        if ns_selector_matches(r, class_data(other.class).l) then
          n = n + 1
          if n > need then break end
        end
      end
      accepted[d.f] = n
    end
    -- The count may include the candidate itself (a class accepting its own labels).
    if n == nil or n > need or (n == need and not ns_selector_matches(family_data(d.f).r, d.l)) then out[#out + 1] = c end
  end
  return out
end

-- The lexicographically first \`size\` pairwise-compatible candidates, or nil (none, or the budget ran out).
local function find_clique(candidates, size, state)
  local picked = {}
  if size <= 0 then return picked end
  if #candidates < size then return nil end
  candidates = plausible(candidates, size, state.left)
  if #candidates < size then return nil end
  local search
  search = function(from)
    if #picked == size then return true end
    local i = from
    while i <= #candidates - (size - #picked) + 1 do
      state.left = state.left - 1
      if state.left < 0 then return false end
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
        if state.left < 0 then return false end
      end
      i = i + 1
    end
    return false
  end
  if search(1) then return picked end
  return nil
end

-- The families of bucket spec_key that accept a request (labels mine, family my_fam), each as {fd, zsets}:
-- families whose anchor its labels meet (or without one), with the ZSETs of their classes it may accept
-- (narrowed to the classes carrying the label value its own anchor requires).
local function accepting_families(spec_key, mine, my_fam)
  local families = {}
  for _, f in ipairs(redis.call('SMEMBERS', k_fu(spec_key))) do families[#families + 1] = f end
  for k, v in pairs(mine.l) do
    for _, f in ipairs(redis.call('SMEMBERS', k_fx(spec_key, k, v))) do families[#families + 1] = f end
  end
  local out = {}
  for _, f in ipairs(families) do
    local fd = family_data(f)
    if ns_selector_matches(fd.r, mine.l) then
      local zsets = {}
      if my_fam.a then
        for _, v in ipairs(my_fam.a.v) do zsets[#zsets + 1] = k_fl(f, my_fam.a.k, v) end
      else
        zsets[1] = k_fc(f)
      end
      out[#out + 1] = { fd = fd, zsets = zsets }
    end
  end
  return out
end

-- Whether classes of family fd may accept another candidate of a request of family my_fam. Not when both
-- anchors name one label key without a common value: every candidate carries one of the request's values,
-- which fd's selector rejects, so such a class only ever meets the request alone (a lobby's waiters, each
-- wanting a maker, beside a maker that wants waiters).
local function meets_others(fd, my_fam)
  if not (fd.a and my_fam.a and fd.a.k == my_fam.a.k) then return true end
  for _, v in ipairs(fd.a.v) do
    for _, w in ipairs(my_fam.a.v) do
      if v == w then return true end
    end
  end
  return false
end

local function zsets_of(families, my_fam, only_meeting)
  local out = {}
  for _, family in ipairs(families) do
    if not only_meeting or meets_others(family.fd, my_fam) then
      for _, z in ipairs(family.zsets) do out[#out + 1] = z end
    end
  end
  return out
end

-- The oldest live request that a request (family my_fam; exclude: its own id when it is pending) and it accept
-- each other: classes are walked by the age of their heads, and the walk stops at the first older than any.
local function oldest_partner(zsets, my_fam, exclude)
  local best = nil
  for _, z in ipairs(zsets) do
    walk(z, function(c, score)
      if best ~= nil and score >= best.seq then return true end
      if not ns_selector_matches(my_fam.r, class_data(c).l) then return false end
      local heads = {}
      live_heads(c, exclude and 2 or 1, heads)
      local head = heads[1]
      if head ~= nil and head.id == exclude then head = heads[2] end
      if head ~= nil and (best == nil or head.seq < best.seq) then best = head end
      return false
    end)
  end
  return best
end

-- The first \`limit\` live requests of each class of zsets that accept(class) admits (each class once, at
-- most class_limit classes), sorted by seq.
local function collect_heads(zsets, limit, accept, class_limit)
  local out = {}
  local seen = {}
  local classes = 0
  for _, z in ipairs(zsets) do
    if classes >= class_limit then break end
    walk(z, function(c)
      if seen[c] then return false end
      if classes >= class_limit then return true end
      if not accept(c) then
        seen[c] = true
        return false
      end
      local before = MUTATIONS
      local heads = {}
      live_heads(c, limit, heads)
      if MUTATIONS == before then
        seen[c] = true
        classes = classes + 1
        for _, h in ipairs(heads) do out[#out + 1] = h end
      end
      return false
    end)
  end
  table.sort(out, by_seq)
  return out
end

-- A search for the groups a request can be in (a newcomer; or a pending one, self_id, searched from): given
-- a size and a budget state, the lexicographically first \`size\` others, each compatible with it and with each
-- other, oldest first; or nil. One other is its oldest partner (a walk that stops early); two or more come
-- from candidates collected once (at most \`limit\` per class), from families whose classes can meet others.
local function searcher(spec_key, mine, my_fam, self_id, limit, budget)
  local families = accepting_families(spec_key, mine, my_fam)
  local candidates = nil
  local function accept(c) return ns_selector_matches(my_fam.r, class_data(c).l) end
  return function(size, state)
    if size <= 0 then return {} end
    if size == 1 then
      local best = oldest_partner(zsets_of(families, my_fam, false), my_fam, self_id)
      if best == nil then return nil end
      return { best }
    end
    if candidates == nil then
      local all = collect_heads(zsets_of(families, my_fam, true), self_id and limit + 1 or limit, accept, budget)
      candidates = {}
      for _, c in ipairs(all) do
        if c.id ~= self_id then candidates[#candidates + 1] = c end
      end
    end
    return find_clique(candidates, size, state)
  end
end

-- The search from a pending request rec, made once per cache (a script's searches between two changes).
local function searcher_of(rec, spec, budget, cache)
  local s = cache[rec.id]
  if s == nil then
    local mine = class_data(rec.class)
    s = searcher(spec.key, mine, family_data(mine.f), rec.id, spec.max, budget)
    cache[rec.id] = s
  end
  return s
end
`;

/**
 * Groups and linger windows. `deliver_group` writes one message for every member (result keys, pub/sub to
 * owners other than the caller) with members in arrival order and their stages. A bucket's window is a
 * field of the event's `win` hash: spec key → `<deadline (server ms)>:<witness ids as JSON>`, the witness
 * being one group of MIN+1 known to be possible (as MemoryStore keeps it). The invariant the scripts keep: a
 * range bucket has a window exactly while a group of MIN+1 is possible in it (as far as the bounded search
 * sees). Only a removal of a witness member can break it, so only then is the bucket searched again
 * (review_windows): a withdrawal beside thousands of waiters costs a lookup, not a search.
 */
export const WINDOW_LUA = `
local function parse_spec(key)
  local mn, mx, lg = string.match(key, '^(%d+)%.%.(%d+)~(%d+)$')
  if mn then return { key = key, min = tonumber(mn), max = tonumber(mx), linger = tonumber(lg), range = true } end
  local n = tonumber(key)
  return { key = key, min = n, max = n, linger = 0, range = false }
end

local function ids_of(members)
  local ids = {}
  for i, m in ipairs(members) do ids[i] = m.id end
  return ids
end

local function set_window(spec_key, deadline, witness)
  redis.call('HSET', K_WIN, spec_key, string.format('%d', deadline) .. ':' .. cjson.encode(ids_of(witness)))
end

-- The bucket's window: its deadline and witness ids, or nil.
local function get_window(spec_key)
  local w = redis.call('HGET', K_WIN, spec_key)
  if not w then return nil end
  local deadline, witness = string.match(w, '^(%d+):(.*)$')
  return tonumber(deadline), cjson.decode(witness)
end

local function window_deadline(spec_key)
  local deadline = get_window(spec_key)
  return deadline
end

-- The marked requests of a range bucket (pz), oldest first, that are still pending and live: each is
-- given to visit(rec) until it returns true. Marks of requests gone are dropped on the way.
local function each_marked(spec_key, budget, visit)
  local ids = redis.call('ZRANGE', k_pz(spec_key), 0, budget - 1)
  for _, id in ipairs(ids) do
    local rec = get_record(id)
    if rec == nil then
      redis.call('ZREM', k_pz(spec_key), id)
    elseif liveness(rec.owner) == 'live' then
      if visit(rec) then return end
    end
  end
end

-- A group of MIN+1 somewhere in the bucket (its members), or nil. Searched from the marked requests only:
-- one that is in no possible group any more is unmarked (only a later filing, which marks itself, can make
-- a group with it possible again), so a backlog of requests that can meet nobody is never scanned.
local function possible_group(spec, budget, cache)
  cache = cache or {}
  local state = { left = budget }
  local found = nil
  each_marked(spec.key, budget, function(rec)
    local others = searcher_of(rec, spec, budget, cache)(spec.min, state)
    if others ~= nil then
      others[#others + 1] = rec
      found = others
      return true
    end
    if state.left < 0 then return true end
    redis.call('ZREM', k_pz(spec.key), rec.id)
    return false
  end)
  return found
end

-- Windows whose witness lost a member in this script (withdrawn, purged, grouped or moved to another stage):
-- another possible group becomes the witness, or the window closes.
local function review_windows(budget)
  local removed = REMOVED
  REMOVED = {}
  for spec_key, ids in pairs(removed) do
    -- Exact counts never linger: no lookup for them.
    local deadline, witness = nil, nil
    if string.find(spec_key, '..', 1, true) then deadline, witness = get_window(spec_key) end
    if deadline ~= nil then
      -- A member moved to another stage's class is pending still, but perhaps compatible no more: looked at too.
      local touched = false
      for _, id in ipairs(witness) do
        if ids[id] then touched = true end
      end
      if touched then
        local found = possible_group(parse_spec(spec_key), budget)
        if found == nil then
          redis.call('HDEL', K_WIN, spec_key)
        else
          set_window(spec_key, deadline, found)
        end
      end
    end
  end
end

-- Open the bucket's window from now; tell the owners of members (the possible group) other than self_id
-- its deadline, so each sets a wake-up. Returns the deadline and the members' ids.
local function open_window(spec, members, now, ev, ch, self_id)
  local deadline = now + spec.linger
  set_window(spec.key, deadline, members)
  local ids = ids_of(members)
  local notice = '{"window":{"event":' .. ev .. ',"spec":' .. cjson.encode(spec.key) .. ',"deadline":' ..
    string.format('%d', deadline) .. ',"now":' .. string.format('%d', now) .. ',"ids":' .. cjson.encode(ids) .. '}}'
  local told = { [self_id] = true }
  for _, m in ipairs(members) do
    if not told[m.owner] then
      told[m.owner] = true
      redis.call('PUBLISH', ch .. m.owner, notice)
    end
  end
  return deadline, ids
end

-- Whether sorted group a comes before sorted group b of the same size, by arrival (lexicographically).
local function earlier(a, b)
  for i = 1, #a do
    if a[i].seq ~= b[i].seq then return a[i].seq < b[i].seq end
  end
  return false
end

-- The largest group of the bucket now (MAX+1 down to MIN+1 members, earliest by arrival among those of that
-- size), or nil. Every possible group holds a marked request and is made of it and its candidates, so the
-- groups through each marked request are compared. The MIN+1 search has a budget of its own, so a fruitless
-- search for larger groups never hides a possible one.
local function largest_group(spec, budget)
  local cache = {}
  local base = possible_group(spec, budget, cache)
  if base == nil then return nil end
  table.sort(base, by_seq)
  local best = base
  local state = { left = budget }
  each_marked(spec.key, budget, function(rec)
    local search = searcher_of(rec, spec, budget, cache)
    for size = spec.max, math.max(#best - 1, spec.min), -1 do
      local others = search(size, state)
      if others ~= nil then
        others[#others + 1] = rec
        table.sort(others, by_seq)
        if #others > #best or earlier(others, best) then best = others end
        break
      end
      if state.left < 0 then return true end
    end
    return state.left < 0
  end)
  return best
end

-- Results for every member, and one message per owner other than self_id (the caller gets the reply).
local function deliver_group(members, ev, ttl, ch, self_id)
  table.sort(members, function(a, b) return (a.seq or math.huge) < (b.seq or math.huge) end)
  local parts = {}
  local stages = {}
  for i, m in ipairs(members) do
    parts[i] = m.json
    stages[i] = string.format('%d', m.stage or 0)
  end
  local message = '{"event":' .. ev .. ',"members":[' .. table.concat(parts, ',') .. '],"stages":[' ..
    table.concat(stages, ',') .. ']}'
  local notified = { [self_id] = true }
  for _, m in ipairs(members) do
    redis.call('SET', k_res(m.id), message, 'PX', ttl)
    if not notified[m.owner] then
      notified[m.owner] = true
      redis.call('PUBLISH', ch .. m.owner, message)
    end
  end
  return message
end

-- A request arriving, or coming back at a later stage with its original seq: R = {id, owner, seq (nil for
-- a new one), stage, json, c, f, cls, fam (definitions as JSON text), mine, my_fam (decoded)}. Forms the
-- largest group the rules allow at once (MAX+1 members), else files it (marked when in a possible group of
-- MIN+1) and opens the bucket's window when such a group just became possible. Replies {'group', message, empty since or ''} or {'pending',
-- 'first' or '', window deadline or '', server now, ids of a window opened now as JSON or ''}.
local function arrive(R, spec, o, now)
  cls_cache[R.c] = R.mine
  fam_cache[R.f] = R.my_fam
  local budget = tonumber(o.budget)
  local ttl = tonumber(o.ttl)
  local search = searcher(spec.key, R.mine, R.my_fam, nil, spec.max, budget)
  local chosen = search(spec.max, { left = budget })
  local seed = nil
  if chosen == nil and spec.range then seed = search(spec.min, { left = budget }) end
  if chosen ~= nil then
    for _, rec in ipairs(chosen) do remove_request(rec) end
    chosen[#chosen + 1] = R
    local message = deliver_group(chosen, o.ev, ttl, o.ch, R.owner)
    review_windows(budget)
    return { 'group', message, forget_event_if_empty() or '' }
  end
  local first = redis.call('EXISTS', K_REQS) == 0
  local seq = R.seq or redis.call('INCR', K_SEQ)
  insert_request(R.id, R.owner, seq, R.stage, R.json, R.c, R.cls, R.f, R.fam, R.my_fam, spec.key)
  local deadline = nil
  local ids = ''
  -- In a possible group now: marked, so later searches of the bucket start from it.
  if seed ~= nil then redis.call('ZADD', k_pz(spec.key), seq, R.id) end
  if seed ~= nil and redis.call('HEXISTS', K_WIN, spec.key) == 0 then
    -- Before this request no group of MIN+1 was possible (the window would be open): it opens one.
    seed[#seed + 1] = R
    local d, opened = open_window(spec, seed, now, o.ev, o.ch, R.owner)
    deadline = d
    ids = cjson.encode(opened)
  else
    -- A request moved to a narrower selector may have left its window's witness without a group.
    review_windows(budget)
    if spec.range then deadline = window_deadline(spec.key) end
  end
  return { 'pending', first and 'first' or '', deadline and string.format('%d', deadline) or '', string.format('%d', now), ids }
end
`;

/**
 * Close a linger window (any instance owning a member calls it at the deadline, or its renewal does when
 * overdue). KEYS[1] the event's reqs. ARGV[1] options JSON: {s (spec key), ev (event as JSON text), owner
 * (the caller's instance), ch, ttl, budget, live}. Forms the largest group only if the window has ended;
 * then opens a new window if a group of MIN+1 is still possible among the rest. Closing twice forms one
 * group: the second call finds no window (or the next one, not yet ended). Returns {'none'} (no window),
 * {'open', deadline, now} (not ended yet), or {'closed', message or '', next deadline or '', now, ids of the
 * next window as JSON or '', empty since (µs) or ''}.
 */
export const CLOSE_BODY = `
local o = cjson.decode(ARGV[1])
local now = server_ms()
local spec = parse_spec(o.s)
local deadline = window_deadline(spec.key)
if deadline == nil then return { 'none' } end
if now < deadline then return { 'open', string.format('%d', deadline), string.format('%d', now) } end
load_liveness(o.live, now)
local budget = tonumber(o.budget)
redis.call('HDEL', K_WIN, spec.key)
local message = ''
local group = largest_group(spec, budget)
if group ~= nil then
  for _, rec in ipairs(group) do remove_request(rec) end
  message = deliver_group(group, o.ev, tonumber(o.ttl), o.ch, o.owner)
end
REMOVED = {}
local next_deadline = ''
local ids = ''
local rest = possible_group(spec, budget)
if rest ~= nil then
  local d, opened = open_window(spec, rest, now, o.ev, o.ch, o.owner)
  next_deadline = string.format('%d', d)
  ids = cjson.encode(opened)
end
return { 'closed', message, next_deadline, string.format('%d', now), ids, forget_event_if_empty() or '' }
`;
