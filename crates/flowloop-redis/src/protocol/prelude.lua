-- Shared helpers; KEYS[1] is always the run's meta hash.
local meta = KEYS[1]

local function cap_of(name)
  return tonumber(redis.call('HGET', meta, 'cap:' .. name) or '0')
end

local function groups_of(name)
  local list = {}
  local groups = redis.call('HGET', meta, 'groups:' .. name)
  if groups then
    for g in string.gmatch(groups, '[^,]+') do list[#list + 1] = g end
  end
  return list
end

-- Entries some consumer group of stream `name` has not acknowledged yet (lag + pending).
local function backlog(name)
  local added = tonumber(redis.call('HGET', meta, 'added:' .. name) or '0')
  local worst = 0
  for _, g in ipairs(groups_of(name)) do
    local acked = tonumber(redis.call('HGET', meta, 'acked:' .. name .. ':' .. g) or '0')
    if added - acked > worst then worst = added - acked end
  end
  return worst
end

local function split_id(id)
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

local function id_less(a, b)
  local am, as = split_id(a)
  local bm, bs = split_id(b)
  return am < bm or (am == bm and as < bs)
end

local function next_id(id)
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  return ms .. '-' .. tostring(tonumber(seq) + 1)
end

-- Trims stream `key` (named `name`) below the oldest entry any group still needs: its oldest
-- pending entry, or the first entry after its last delivered one. Never drops unacked entries.
local function trim(key, name)
  local groups = groups_of(name)
  if #groups == 0 then return end
  local last = {}
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    local gname, delivered
    for i = 1, #info, 2 do
      if info[i] == 'name' then gname = info[i + 1] end
      if info[i] == 'last-delivered-id' then delivered = info[i + 1] end
    end
    last[gname] = delivered
  end
  local minid
  for _, g in ipairs(groups) do
    local summary = redis.call('XPENDING', key, g)
    local candidate
    if summary[1] > 0 then candidate = summary[2] else candidate = next_id(last[g] or '0-0') end
    if minid == nil or id_less(candidate, minid) then minid = candidate end
  end
  redis.call('XTRIM', key, 'MINID', minid)
end

local function owner_of(key, group, id)
  local p = redis.call('XPENDING', key, group, id, id, 1)
  if p[1] then return p[1][2], p[1][4] end
  return nil, 0
end

-- Bounded, de-duplicated append of a producer's payloads ARGV[first..] to stream `key` (flow
-- stream `name`) as entries `<field>=<payload>` (`d`, or `b` for bundles), the first with
-- sequence number `seq0`. Caps and sequence numbers count entries. Returns how many payloads are now in
-- the stream (a prefix); fewer than given when the stream is at its cap (the caller waits and
-- sends the rest again). Payloads whose sequence number was already appended are skipped, so
-- a retry after a lost reply (or a replay after a crash) adds nothing twice.
local function append(key, name, field, seq0, first)
  if redis.call('HEXISTS', meta, 'eos:' .. name) == 1 then
    return redis.error_reply('ENDED stream ' .. name .. ' was already ended; start a new run')
  end
  local cap = cap_of(name)
  local last = tonumber(redis.call('HGET', meta, 'seq:' .. name) or '0')
  local room = cap - backlog(name)
  local done, added = 0, 0
  for i = first, #ARGV do
    local seq = seq0 + i - first
    if seq > last then
      -- Only the next sequence number may be appended, so pipelined calls never leave a gap.
      if seq > last + 1 or (cap > 0 and room <= 0) then break end
      redis.call('XADD', key, '*', field, ARGV[i])
      added, last, room = added + 1, seq, room - 1
    end
    done = done + 1
  end
  if added > 0 then
    redis.call('HINCRBY', meta, 'added:' .. name, added)
    redis.call('HSET', meta, 'seq:' .. name, last)
  end
  if cap > 0 and redis.call('XLEN', key) >= cap then trim(key, name) end
  return done
end
