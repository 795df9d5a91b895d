-- Fenced commit of handled entries of one input stream.
-- KEYS: meta, input stream, output streams (in the order of the output names).
-- ARGV: group, consumer, input name, lowest id, highest id, number of outputs N, N output
--   names, then per entry: id, k, then k triples (output index 1..N, field, payload): one
--   output entry `<field>=<payload>` each (`d` one value, `b` a bundle of values).
-- Entries no longer pending for this consumer (reclaimed by another worker) are skipped with
-- their outputs: that is the fence. When an output stream is at its cap nothing is written.
-- Returns {'OK', committed, fenced} or {'FULL', stream}.
--
-- Entries change owner only in `reclaim`, which flags the consumer it took them from
-- (`fenced:<group>:<consumer>`). So for an unflagged consumer that still has pending entries in
-- the batch's range every entry of the batch is its own (the fast path); otherwise one look at
-- its pending entries in that range decides, entry by entry.
local input, group, me, inname = KEYS[2], ARGV[1], ARGV[2], ARGV[3]
local nout = tonumber(ARGV[6])
local outs = {}
for j = 1, nout do outs[j] = ARGV[6 + j] end
local mine
local flagged = redis.call('HEXISTS', meta, 'fenced:' .. group .. ':' .. me) == 1
if flagged or #redis.call('XPENDING', input, group, ARGV[4], ARGV[5], 1, me) == 0 then
  mine = {}
  for _, p in ipairs(redis.call('XPENDING', input, group, ARGV[4], ARGV[5], 100000, me)) do mine[p[1]] = true end
else
  mine = setmetatable({}, { __index = function() return true end })
end
local first, last = 7 + nout, #ARGV
local need, ids, fenced = {}, {}, 0
local i = first
while i <= last do
  local id, k = ARGV[i], tonumber(ARGV[i + 1])
  if mine[id] then
    ids[#ids + 1] = id
    for j = 1, k do
      local out = tonumber(ARGV[i + 3 * j - 1])
      need[out] = (need[out] or 0) + 1
    end
  else
    fenced = fenced + 1
  end
  i = i + 2 + 3 * k
end
for j, n in pairs(need) do
  local cap = cap_of(outs[j])
  local b = backlog(outs[j])
  if cap > 0 and b > 0 and b + n > cap then
    if redis.call('XLEN', KEYS[2 + j]) >= cap then trim(KEYS[2 + j], outs[j]) end
    return { 'FULL', outs[j] }
  end
end
i = first
while i <= last do
  local id, k = ARGV[i], tonumber(ARGV[i + 1])
  if mine[id] then
    for j = 1, k do
      local at = i + 3 * j - 1
      redis.call('XADD', KEYS[2 + tonumber(ARGV[at])], '*', ARGV[at + 1], ARGV[at + 2])
    end
  end
  i = i + 2 + 3 * k
end
for s = 1, #ids, 1000 do
  redis.call('XACK', input, group, unpack(ids, s, math.min(s + 999, #ids)))
end
for j, n in pairs(need) do
  redis.call('HINCRBY', meta, 'added:' .. outs[j], n)
  local cap = cap_of(outs[j])
  if cap > 0 and redis.call('XLEN', KEYS[2 + j]) >= cap then trim(KEYS[2 + j], outs[j]) end
end
if #ids > 0 then redis.call('HINCRBY', meta, 'acked:' .. inname .. ':' .. group, #ids) end
return { 'OK', #ids, fenced }
