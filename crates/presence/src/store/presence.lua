-- Presence updates, atomic per call. ARGV[1] names the operation:
--   beat   prefix pod deadline_ms now_ms full(0|1) n
--          (connection member room active_ms call_room seat_json) x n  closed...
--          Renews the pod's lease, applies its connection changes (call_room '' = in no call);
--          returns {resync, #changes, change..., call room...}.
--   expire prefix pod now_ms
--          Forgets a pod whose lease ran out (unless renewed meanwhile); returns {0, #changes,
--          change..., call room...}.
-- A change is a member id, positive when the member gained their first connection (came online),
-- negative when they lost their last one (went offline), in the order they happened. A call room is
-- a room whose call changed (each listed once).
--
-- Keys (p = prefix):
--   p..presence:pods            ZSET pod -> lease deadline (ms)
--   p..presence:pod:<pod>       HASH connection -> "member|room|call_room"  ('' = lobby / no call)
--   p..presence:member:<m>      HASH "pod/connection" -> room
--   p..presence:room:<r>        HASH "pod/connection" -> member
--   p..presence:active:<m>      last activity (ms), only grows
--   p..presence:seen:<m>        when the member's last connection went (ms)
--   p..presence:call:<r>        HASH "pod/connection" -> seat (JSON of the participant)
--   p..presence:callver:<r>     version of the room's call's last change (see next_call_version)
local op, p, pod = ARGV[1], ARGV[2], ARGV[3]
local TTL = 86400
local SEEN_TTL = 90 * 86400
local pods = p .. 'presence:pods'
local podkey = p .. 'presence:pod:' .. pod
local changes = {}
local calls, call_list = {}, {}

-- "member|room|call_room" (values written before calls have no third part).
local function split(value)
  local first = string.find(value, '|', 1, true)
  local member, rest = string.sub(value, 1, first - 1), string.sub(value, first + 1)
  local second = string.find(rest, '|', 1, true)
  if not second then return member, rest, '' end
  return member, string.sub(rest, 1, second - 1), string.sub(rest, second + 1)
end

-- The room's call changed: a new version (at least now, in ms), and the room is reported once.
local function call_changed(room, now)
  local vkey = p .. 'presence:callver:' .. room
  local version = math.max(tonumber(redis.call('GET', vkey) or '0') + 1, tonumber(now))
  redis.call('SET', vkey, string.format('%d', version), 'EX', TTL)
  if not calls[room] then
    calls[room] = true
    call_list[#call_list + 1] = tonumber(room)
  end
end

local function unseat(field, call_room, now)
  if call_room == '' then return end
  redis.call('HDEL', p .. 'presence:call:' .. call_room, field)
  call_changed(call_room, now)
end

local function reply(resync)
  local out = {resync, #changes}
  for _, c in ipairs(changes) do out[#out + 1] = c end
  for _, r in ipairs(call_list) do out[#out + 1] = r end
  return out
end

local function forget(conn, now)
  local value = redis.call('HGET', podkey, conn)
  if not value then return end
  local member, room, call_room = split(value)
  local field = pod .. '/' .. conn
  unseat(field, call_room, now)
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
    local base = 8 + 6 * i
    local conn, member, room, active = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
    local call_room, seat = ARGV[base + 4], ARGV[base + 5]
    local field = pod .. '/' .. conn
    fresh[conn] = true
    local old = redis.call('HGET', podkey, conn)
    local mkey = p .. 'presence:member:' .. member
    if old then
      local _, old_room, old_call = split(old)
      if old_room ~= room and old_room ~= '' then
        redis.call('HDEL', p .. 'presence:room:' .. old_room, field)
      end
      if old_call ~= call_room then unseat(field, old_call, now) end
    elseif redis.call('HLEN', mkey) == 0 then
      changes[#changes + 1] = tonumber(member)
    end
    if call_room ~= '' then
      local ckey = p .. 'presence:call:' .. call_room
      if redis.call('HGET', ckey, field) ~= seat then
        redis.call('HSET', ckey, field, seat)
        call_changed(call_room, now)
      end
      redis.call('EXPIRE', ckey, TTL)
    end
    redis.call('HSET', podkey, conn, member .. '|' .. room .. '|' .. call_room)
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
  for i = 8 + 6 * n, #ARGV do forget(ARGV[i], now) end
  redis.call('EXPIRE', podkey, TTL)
  local resync = 0
  if not known and not full then resync = 1 end
  return reply(resync)
elseif op == 'expire' then
  local now = ARGV[4]
  local score = redis.call('ZSCORE', pods, pod)
  if (not score) or tonumber(score) > tonumber(now) then return reply(0) end
  redis.call('ZREM', pods, pod)
  for _, conn in ipairs(redis.call('HKEYS', podkey)) do forget(conn, now) end
  redis.call('DEL', podkey)
  return reply(0)
end
return redis.error_reply('unknown operation ' .. tostring(op))
