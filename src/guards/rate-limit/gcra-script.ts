/**
 * The GCRA step (see gcra.ts) as one Redis Lua script, so the read, the
 * decision and the write happen atomically on the server that every
 * instance shares, and on Redis's clock (`TIME`), so instances whose own
 * clocks disagree still agree on every decision.
 *
 * The TAT is stored as "<µs>:<remainder>" with whole numbers only: Lua 5.1
 * has doubles, which hold integers exactly up to 2^53 (epoch microseconds
 * are about 2^51), so the arithmetic is exact like the TypeScript version.
 * The key expires when its TAT passes, so idle clients cost Redis nothing.
 */
import { createHash } from 'node:crypto';

/**
 * KEYS[1]: the client's key. ARGV[1]: limit. ARGV[2]: window in ms.
 * ARGV[3]: cost in units (1 per request; 0 only checks), or '-1' to give one
 * request back instead (gcraRefund). ARGV[4]: 1 to spend the cost even past
 * the limit (see gcraStep's `force`).
 * Returns { admitted (1|0), µs the TAT is ahead of now, remainder in 1/limit µs }.
 *
 * @example
 * await redis.eval(GCRA_LUA, 1, 'holdfast:rl:default:ip:203.0.113.7', 100, 60_000); // [1, 600000, 0]
 */
export const GCRA_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local limit = tonumber(ARGV[1])
local window_us = tonumber(ARGV[2]) * 1000
local cost = tonumber(ARGV[3] or '1')
local force = ARGV[4] == '1'
local step_us = math.floor(window_us * cost / limit)
local step_rem = (window_us * cost) % limit
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local us, rem = now, 0
local stored = redis.call('GET', KEYS[1])
if stored then
  local s_us, s_rem = string.match(stored, '^(%d+):(%d+)$')
  if s_us and tonumber(s_us) >= now then
    us, rem = tonumber(s_us), tonumber(s_rem)
  end
end
if ARGV[3] == '-1' then
  local back_us, back_rem = us - math.floor(window_us / limit), rem - (window_us % limit)
  if back_rem < 0 then
    back_us, back_rem = back_us - 1, back_rem + limit
  end
  if back_us > now or (back_us == now and back_rem > 0) then
    redis.call('SET', KEYS[1], string.format('%.0f:%.0f', back_us, back_rem), 'PX', math.floor((back_us - now) / 1000) + 1)
  else
    redis.call('DEL', KEYS[1])
  end
  return { 1, 0, 0 }
end
local next_us, next_rem = us + step_us, rem + step_rem
if next_rem >= limit then
  next_us, next_rem = next_us + 1, next_rem - limit
end
if not force and (next_us - now - window_us) * limit + next_rem > 0 then
  return { 0, us - now, rem }
end
if cost == 0 then
  return { 1, us - now, rem }
end
redis.call('SET', KEYS[1], string.format('%.0f:%.0f', next_us, next_rem), 'PX', math.floor((next_us - now) / 1000) + 1)
return { 1, next_us - now, next_rem }
`;

/**
 * SHA-1 of the script, for EVALSHA.
 *
 * @example
 * await redis.evalsha(GCRA_LUA_SHA1, 1, key, 100, 60_000); // NOSCRIPT until the script was loaded
 */
export const GCRA_LUA_SHA1 = createHash('sha1').update(GCRA_LUA).digest('hex');
