-- Fenced commit of a `wait` or stream processor: writes its outputs (or its dead letter) and
-- the end markers of its outputs, once, atomically with the end of its lock.
-- KEYS: meta, partition lock, dead-letter stream, output streams. ARGV: processor, consumer,
--   error ('' when it succeeded), deliveries, number of outputs N, N output names, then pairs
--   (output index, payload).
-- Returns 'DONE' (already committed), 'FENCED' (lock lost) or 'OK'.
local proc, me = ARGV[1], ARGV[2]
if redis.call('HEXISTS', meta, 'done:' .. proc) == 1 then return 'DONE' end
if redis.call('GET', KEYS[2]) ~= me then return 'FENCED' end
if ARGV[3] ~= '' then
  redis.call('XADD', KEYS[3], '*', 'processor', proc, 'stream', '', 'id', '',
    'error', ARGV[3], 'deliveries', ARGV[4], 'd', '')
end
local n = tonumber(ARGV[5])
local added = {}
local i = 6 + n
while i <= #ARGV do
  local j = tonumber(ARGV[i])
  redis.call('XADD', KEYS[3 + j], '*', 'd', ARGV[i + 1])
  added[j] = (added[j] or 0) + 1
  i = i + 2
end
for j = 1, n do
  local out = ARGV[5 + j]
  if redis.call('HSETNX', meta, 'eos:' .. out, 1) == 1 then
    redis.call('XADD', KEYS[3 + j], '*', 'eos', proc)
    added[j] = (added[j] or 0) + 1
  end
  if added[j] then redis.call('HINCRBY', meta, 'added:' .. out, added[j]) end
end
redis.call('HSET', meta, 'done:' .. proc, 1)
redis.call('DEL', KEYS[2])
return 'OK'
