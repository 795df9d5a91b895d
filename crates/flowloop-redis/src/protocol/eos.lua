-- A consumer reached the end-of-stream marker of one input.
-- KEYS: meta, input stream, output streams. ARGV: group, consumer, input name, marker id,
--   number of inputs M, M input names, number of outputs N, N output names.
-- Returns 'FENCED' (marker reclaimed by another worker), 'WAIT' (other entries of this input
-- are still pending somewhere: try again later), 'OK' (input finished, others still open) or
-- 'DONE' (all inputs finished: end markers written on every output, processor done).
local input, group, me, inname, id = KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if owner_of(input, group, id) ~= me then return 'FENCED' end
if redis.call('XPENDING', input, group)[1] > 1 then return 'WAIT' end
redis.call('XACK', input, group, id)
redis.call('HINCRBY', meta, 'acked:' .. inname .. ':' .. group, 1)
redis.call('HSET', meta, 'eosin:' .. group .. ':' .. inname, 1)
local m = tonumber(ARGV[5])
for j = 1, m do
  if redis.call('HEXISTS', meta, 'eosin:' .. group .. ':' .. ARGV[5 + j]) == 0 then return 'OK' end
end
local n = tonumber(ARGV[6 + m])
for j = 1, n do
  local out = ARGV[6 + m + j]
  if redis.call('HSETNX', meta, 'eos:' .. out, 1) == 1 then
    redis.call('XADD', KEYS[2 + j], '*', 'eos', group)
    redis.call('HINCRBY', meta, 'added:' .. out, 1)
  end
end
redis.call('HSET', meta, 'done:' .. group, 1)
return 'DONE'
