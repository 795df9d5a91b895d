-- Takes over the pending entries of consumers whose lease expired (a dead or stalled worker).
-- KEYS: meta, input stream. ARGV: group, consumer, lease key prefix, max entries per consumer.
-- Returns {{id, fields, deliveries}, ...} for the entries now owned by this consumer. Ownership
-- moves by lease, never by idle time, so slow but live work is never duplicated.
local input, group, me, prefix = KEYS[2], ARGV[1], ARGV[2], ARGV[3]
local out = {}
local summary = redis.call('XPENDING', input, group)
if summary[1] == 0 then return out end
for _, c in ipairs(summary[4]) do
  local name = c[1]
  if name ~= me and redis.call('EXISTS', prefix .. name) == 0 then
    local counts, ids = {}, {}
    for _, p in ipairs(redis.call('XPENDING', input, group, '-', '+', tonumber(ARGV[4]), name)) do
      ids[#ids + 1] = p[1]
      counts[p[1]] = p[4]
    end
    if #ids > 0 then
      for _, e in ipairs(redis.call('XCLAIM', input, group, me, 0, unpack(ids))) do
        if e and e[1] then out[#out + 1] = { e[1], e[2], counts[e[1]] + 1 } end
      end
    end
  end
end
return out
