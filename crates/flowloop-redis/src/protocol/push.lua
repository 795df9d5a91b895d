-- Bounded, de-duplicated append of a producer's entries.
-- KEYS: meta, stream. ARGV: stream name, sequence number of the first payload, payloads...
-- Returns how many payloads are now in the stream (a prefix); fewer than given when the
-- stream is at its cap (the caller waits and sends the rest again). Payloads whose sequence
-- number was already appended are skipped, so a retry after a lost reply adds nothing twice.
local key, name = KEYS[2], ARGV[1]
if redis.call('HEXISTS', meta, 'eos:' .. name) == 1 then
  return redis.error_reply('ENDED stream ' .. name .. ' was already ended; start a new run')
end
local cap = cap_of(name)
local last = tonumber(redis.call('HGET', meta, 'seq:' .. name) or '0')
local seq0 = tonumber(ARGV[2])
local room = cap - backlog(name)
local done, added = 0, 0
for i = 3, #ARGV do
  local seq = seq0 + i - 3
  if seq > last then
    -- Only the next sequence number may be appended, so pipelined calls never leave a gap.
    if seq > last + 1 or (cap > 0 and room <= 0) then break end
    redis.call('XADD', key, '*', 'd', ARGV[i])
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
