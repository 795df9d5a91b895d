-- A handler failed on one entry (or on one value of a bundle entry).
-- KEYS: meta, input stream, dead-letter stream. ARGV: group, consumer, input name, id,
--   max deliveries, error text, payload, then for a bundle: the value's index in the bundle
--   and the attempts made on it ('' and '' for a plain entry).
-- Returns {'FENCED', 0}, {'DEAD', deliveries} (moved to the dead-letter stream and acked), or
-- {'RETRY', deliveries} (claimed again by this consumer, which bumps the delivery count).
-- A bundle value's dead letter is written once (flagged in the meta hash) and the entry is
-- not acked: its other values are committed with it.
local input, group, me, inname, id = KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local owner, n = owner_of(input, group, id)
if owner ~= me then return { 'FENCED', 0 } end
local slot = ARGV[8] or ''
if slot ~= '' then n = tonumber(ARGV[9]) end
if n >= tonumber(ARGV[5]) then
  local first = slot == '' or redis.call('HSETNX', meta, 'dead:' .. group .. ':' .. id .. ':' .. slot, 1) == 1
  if first then
    redis.call('XADD', KEYS[3], '*', 'processor', group, 'stream', inname, 'id', id,
      'error', ARGV[6], 'deliveries', n, 'd', ARGV[7])
  end
  if slot == '' then
    redis.call('XACK', input, group, id)
    redis.call('HINCRBY', meta, 'acked:' .. inname .. ':' .. group, 1)
  end
  return { 'DEAD', n }
end
if slot == '' then redis.call('XCLAIM', input, group, me, 0, id) end
return { 'RETRY', n + 1 }
