-- Renews a worker's lease and the partition locks it holds.
-- KEYS: meta, lease key, partition lock keys... ARGV: token, ttl in ms.
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
for i = 3, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
return 1
