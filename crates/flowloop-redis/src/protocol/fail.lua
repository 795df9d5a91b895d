-- A handler failed on one entry.
-- KEYS: meta, input stream, dead-letter stream. ARGV: group, consumer, input name, id,
--   max deliveries, error text, payload.
-- Returns {'FENCED', 0}, {'DEAD', deliveries} (moved to the dead-letter stream and acked), or
-- {'RETRY', deliveries} (claimed again by this consumer, which bumps the delivery count).
local input, group, me, inname, id = KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local owner, n = owner_of(input, group, id)
if owner ~= me then return { 'FENCED', 0 } end
if n >= tonumber(ARGV[5]) then
  redis.call('XADD', KEYS[3], '*', 'processor', group, 'stream', inname, 'id', id,
    'error', ARGV[6], 'deliveries', n, 'd', ARGV[7])
  redis.call('XACK', input, group, id)
  redis.call('HINCRBY', meta, 'acked:' .. inname .. ':' .. group, 1)
  return { 'DEAD', n }
end
redis.call('XCLAIM', input, group, me, 0, id)
return { 'RETRY', n + 1 }
