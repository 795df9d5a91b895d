-- Takes over the pending entries of consumers whose lease expired (a dead or stalled worker).
-- KEYS: meta, input stream, dead-letter stream. ARGV: group, consumer, lease key prefix, max
--   entries per consumer, max deliveries, input name.
-- Returns {{id, fields, deliveries}, ...} for the entries now owned by this consumer. Ownership
-- moves by lease, never by idle time, so slow but live work is never duplicated. An entry
-- already delivered max-deliveries times (workers kept dying while handling it: a crash
-- poison) goes to the dead-letter stream and is acknowledged instead of being handed out.
local input, group, me, prefix = KEYS[2], ARGV[1], ARGV[2], ARGV[3]
local max, inname = tonumber(ARGV[5]), ARGV[6]
local out = {}
local summary = redis.call('XPENDING', input, group)
if summary[1] == 0 then return out end
local function bury(id, n)
  local e = redis.call('XRANGE', input, id, id)[1]
  local field, payload = 'd', ''
  if e then
    for k = 1, #e[2], 2 do
      if e[2][k] == 'd' or e[2][k] == 'b' then field, payload = e[2][k], e[2][k + 1] end
    end
  end
  -- A bundle is buried whole (`b`); readers of the dead-letter stream split it.
  redis.call('XADD', KEYS[3], '*', 'processor', group, 'stream', inname, 'id', id,
    'error', 'delivered ' .. n .. ' times and never finished: every worker handling it died',
    'deliveries', n, field, payload)
  redis.call('XACK', input, group, id)
  redis.call('HINCRBY', meta, 'acked:' .. inname .. ':' .. group, 1)
end
for _, c in ipairs(summary[4]) do
  local name = c[1]
  if name ~= me and redis.call('EXISTS', prefix .. name) == 0 then
    -- From now on `commit` checks this consumer's entries one by one (see commit.lua).
    redis.call('HSET', meta, 'fenced:' .. group .. ':' .. name, 1)
    local counts, ids = {}, {}
    for _, p in ipairs(redis.call('XPENDING', input, group, '-', '+', tonumber(ARGV[4]), name)) do
      if p[4] >= max then
        bury(p[1], p[4])
      else
        ids[#ids + 1] = p[1]
        counts[p[1]] = p[4]
      end
    end
    if #ids > 0 then
      for _, e in ipairs(redis.call('XCLAIM', input, group, me, 0, unpack(ids))) do
        if e and e[1] then out[#out + 1] = { e[1], e[2], counts[e[1]] + 1 } end
      end
    end
  end
end
return out
