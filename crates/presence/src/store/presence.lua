-- Presence updates, atomic per call. ARGV[1] names the operation:
--   beat   prefix pod deadline_ms now_ms full(0|1) n  (connection member room active_ms) x n  closed...
--          Renews the pod's lease, applies its connection changes; returns {resync, change...}.
--   expire prefix pod now_ms
--          Forgets a pod whose lease ran out (unless renewed meanwhile); returns {0, change...}.
-- A change is a member id, positive when the member gained their first connection (came online),
-- negative when they lost their last one (went offline), in the order they happened.
--
-- Keys (p = prefix):
--   p..presence:pods            ZSET pod -> lease deadline (ms)
--   p..presence:pod:<pod>       HASH connection -> "member|room"     (room '' = lobby)
--   p..presence:member:<m>      HASH "pod/connection" -> room
--   p..presence:room:<r>        HASH "pod/connection" -> member
--   p..presence:active:<m>      last activity (ms), only grows
--   p..presence:seen:<m>        when the member's last connection went (ms)
local op, p, pod = ARGV[1], ARGV[2], ARGV[3]
local TTL = 86400
local SEEN_TTL = 90 * 86400
local pods = p .. 'presence:pods'
local podkey = p .. 'presence:pod:' .. pod
local changes = {}

local function split(value)
  local sep = string.find(value, '|', 1, true)
  return string.sub(value, 1, sep - 1), string.sub(value, sep + 1)
end

local function forget(conn, now)
  local value = redis.call('HGET', podkey, conn)
  if not value then return end
  local member, room = split(value)
  local field = pod .. '/' .. conn
  redis.call('HDEL', podkey, conn)
  local mkey = p .. 'presence:member:' .. member
  redis.call('HDEL', mkey, field)
  if room ~= '' then redis.call('HDEL', p .. 'presence:room:' .. room, field) end
  if redis.call('HLEN', mkey) == 0 then
    redis.call('SET', p .. 'presence:seen:' .. member, now, 'EX', SEEN_TTL)
    changes[#changes + 1] = -tonumber(member)
  end
end

if op == 'beat' then
  local deadline, now, full, n = ARGV[4], ARGV[5], ARGV[6] == '1', tonumber(ARGV[7])
  local known = redis.call('ZSCORE', pods, pod)
  redis.call('ZADD', pods, deadline, pod)
  local fresh = {}
  for i = 0, n - 1 do
    local base = 8 + 4 * i
    local conn, member, room, active = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
    local field = pod .. '/' .. conn
    fresh[conn] = true
    local old = redis.call('HGET', podkey, conn)
    local mkey = p .. 'presence:member:' .. member
    if old then
      local _, old_room = split(old)
      if old_room ~= room and old_room ~= '' then
        redis.call('HDEL', p .. 'presence:room:' .. old_room, field)
      end
    elseif redis.call('HLEN', mkey) == 0 then
      changes[#changes + 1] = tonumber(member)
    end
    redis.call('HSET', podkey, conn, member .. '|' .. room)
    redis.call('HSET', mkey, field, room)
    redis.call('EXPIRE', mkey, TTL)
    if room ~= '' then
      local rkey = p .. 'presence:room:' .. room
      redis.call('HSET', rkey, field, member)
      redis.call('EXPIRE', rkey, TTL)
    end
    local akey = p .. 'presence:active:' .. member
    local current = tonumber(redis.call('GET', akey) or '0')
    if tonumber(active) > current then
      redis.call('SET', akey, active, 'EX', TTL)
    end
  end
  if full then
    for _, conn in ipairs(redis.call('HKEYS', podkey)) do
      if not fresh[conn] then forget(conn, now) end
    end
  end
  for i = 8 + 4 * n, #ARGV do forget(ARGV[i], now) end
  redis.call('EXPIRE', podkey, TTL)
  local resync = 0
  if not known and not full then resync = 1 end
  table.insert(changes, 1, resync)
  return changes
elseif op == 'expire' then
  local now = ARGV[4]
  local score = redis.call('ZSCORE', pods, pod)
  if (not score) or tonumber(score) > tonumber(now) then return {0} end
  redis.call('ZREM', pods, pod)
  for _, conn in ipairs(redis.call('HKEYS', podkey)) do forget(conn, now) end
  redis.call('DEL', podkey)
  table.insert(changes, 1, 0)
  return changes
end
return redis.error_reply('unknown operation ' .. tostring(op))
