-- Bounded, de-duplicated append of the caller's entries to a flow input (see `append`).
-- KEYS: meta, stream. ARGV: stream name, field (`d`, or `b` for bundles), sequence number of
--   the first payload, payloads...
if ARGV[2] ~= 'd' and ARGV[2] ~= 'b' then return redis.error_reply('ERR push: field must be d or b') end
return append(KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), 4)
