-- Fenced commit of handled entries of one input stream.
-- KEYS: meta, input stream, output streams (in the order of the output names).
-- ARGV: group, consumer, input name, number of outputs N, N output names, then per entry:
--   id, k, then k pairs (output index 1..N, payload).
-- Entries no longer pending for this consumer (reclaimed by another worker) are skipped with
-- their outputs: that is the fence. When an output stream is at its cap nothing is written.
-- Returns {'OK', committed, fenced} or {'FULL', stream}.
local input, group, me, inname = KEYS[2], ARGV[1], ARGV[2], ARGV[3]
local nout = tonumber(ARGV[4])
local outs = {}
for j = 1, nout do outs[j] = ARGV[4 + j] end
local owned, need, fenced = {}, {}, 0
local i = 5 + nout
while i <= #ARGV do
  local id, k = ARGV[i], tonumber(ARGV[i + 1])
  local items = {}
  for j = 1, k do items[j] = { tonumber(ARGV[i + 2 * j]), ARGV[i + 2 * j + 1] } end
  i = i + 2 + 2 * k
  if owner_of(input, group, id) == me then
    owned[#owned + 1] = { id = id, items = items }
    for _, it in ipairs(items) do need[it[1]] = (need[it[1]] or 0) + 1 end
  else
    fenced = fenced + 1
  end
end
for j, n in pairs(need) do
  local cap = cap_of(outs[j])
  local b = backlog(outs[j])
  if cap > 0 and b > 0 and b + n > cap then
    if redis.call('XLEN', KEYS[2 + j]) >= cap then trim(KEYS[2 + j], outs[j]) end
    return { 'FULL', outs[j] }
  end
end
local added = {}
for _, e in ipairs(owned) do
  for _, it in ipairs(e.items) do
    redis.call('XADD', KEYS[2 + it[1]], '*', 'd', it[2])
    added[it[1]] = (added[it[1]] or 0) + 1
  end
  redis.call('XACK', input, group, e.id)
end
for j, n in pairs(added) do
  redis.call('HINCRBY', meta, 'added:' .. outs[j], n)
  local cap = cap_of(outs[j])
  if cap > 0 and redis.call('XLEN', KEYS[2 + j]) >= cap then trim(KEYS[2 + j], outs[j]) end
end
if #owned > 0 then redis.call('HINCRBY', meta, 'acked:' .. inname .. ':' .. group, #owned) end
return { 'OK', #owned, fenced }
