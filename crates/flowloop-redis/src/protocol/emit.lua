-- Fenced, bounded, de-duplicated append of a stream processor's outputs (see `append`).
-- KEYS: meta, the processor's lock, stream. ARGV: consumer, stream name, sequence number of
--   the first payload, payloads...
-- Returns -1 when the lock is not held by this consumer (another worker took the processor
-- over), else how many payloads are now in the stream.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
return append(KEYS[3], ARGV[2], 'd', tonumber(ARGV[3]), 4)
