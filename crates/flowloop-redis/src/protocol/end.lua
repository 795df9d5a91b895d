-- Ends a flow input stream: one marker entry plus the eos flag. Idempotent.
-- KEYS: meta, stream. ARGV: stream name, producer id. Returns 1 when it wrote the marker.
local key, name = KEYS[2], ARGV[1]
if redis.call('HSETNX', meta, 'eos:' .. name, 1) == 0 then return 0 end
redis.call('XADD', key, '*', 'eos', ARGV[2])
redis.call('HINCRBY', meta, 'added:' .. name, 1)
return 1
