// The server-side scripts that make each shared-counter operation one atomic step in Redis/Valkey (design §12).
// Each ports the in-process rule it stands for, arithmetic included, so one replica and many decide alike:
// `reserve`/`release`/`fired` follow governor/usage.ts (MemoryUsageStore), `take` governor/rate-bucket.ts
// (TokenBucket). Numbers are Lua doubles, as JavaScript's: whole numbers up to 2^53 are exact, and they are
// written back with %.0f (tostring would keep 14 digits).
//
// A counter is a hash {w: window start ('' without a window), u: used, f: highest threshold fired}; asking for
// another window than `w` reads an empty cell, and writing starts that window afresh.
//
// Every script that reads or counts first checks the store's epoch (KEYS[2], expected value the last ARGV): a
// store that lost its data (a flush, a failover without persistence) has no epoch, or a new one being restored,
// and the script refuses with a TAI_EPOCH error instead of counting on empty counters (counters/counters-epoch.ts
// restores them from the replicas' logs). All keys carry the `{tai}` hash tag: one cluster slot, so a script may
// touch the epoch and a counter together.

/** Refuses (TAI_EPOCH error) unless the store's epoch (KEYS[2]) is the one the caller counts in (the last ARGV). */
const EPOCH = `
local epoch = redis.call('GET', KEYS[2])
if epoch ~= ARGV[#ARGV] then return redis.error_reply('TAI_EPOCH ' .. (epoch or 'none')) end
`;

/** The cell's usage and fired mark in window ARGV[1] (0, 0 when it holds another window). */
const CELL = `
local function cell(key, w)
  local c = redis.call('HMGET', key, 'w', 'u', 'f')
  if c[1] == w then return tonumber(c[2]), tonumber(c[3]) end
  return 0, 0
end
`;

/**
 * KEYS[1] counter; ARGV window, amount, cap ('' for none), max usage, ttl ms ('' for none).
 * Returns {ok 1|0, used after (unchanged when refused), fired, applied}.
 */
export const RESERVE = `${CELL}${EPOCH}local w, amount, cap, max = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local used, fired = cell(KEYS[1], w)
if amount > 0 and cap ~= '' and used + amount > tonumber(cap) then return {0, used, fired, 0} end
local after = math.min(max, math.max(0, used + amount))
redis.call('HSET', KEYS[1], 'w', w, 'u', string.format('%.0f', after), 'f', fired)
if ARGV[5] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return {1, after, fired, after - used}
`;

/** KEYS[1] counter; ARGV window, applied. Gives units back, flooring at 0; a no-op once the window changed. */
export const RELEASE = `${CELL}${EPOCH}local w = ARGV[1]
if redis.call('HGET', KEYS[1], 'w') ~= w then return 0 end
local used = cell(KEYS[1], w)
redis.call('HSET', KEYS[1], 'u', string.format('%.0f', math.max(0, used - tonumber(ARGV[2]))))
return 1
`;

/** KEYS[1] counter; ARGV window. Returns {used, fired}. */
export const READ = `${CELL}${EPOCH}local used, fired = cell(KEYS[1], ARGV[1])
return {used, fired}
`;

/**
 * KEYS[1] counter; ARGV window, expected, next. Moves the window's fired mark and returns 1 if it did; the replica
 * whose move succeeds announces the crossing, so it is announced once per window across replicas. A rise (a
 * crossing) goes through while the mark is below `next`: of two replicas crossing 50 and 90 at once, 90 is
 * announced whatever the order, and 50 only if it moves first (as several thresholds crossed by one consume). A
 * fall (a gauge re-arming) goes through only from `expected`.
 */
export const MOVE_FIRED = `${EPOCH}local c = redis.call('HMGET', KEYS[1], 'w', 'f')
if c[1] ~= ARGV[1] then return 0 end
local fired, expected, next = tonumber(c[2]), tonumber(ARGV[2]), tonumber(ARGV[3])
if next > expected then
  if fired >= next then return 0 end
elseif fired ~= expected then return 0 end
redis.call('HSET', KEYS[1], 'f', ARGV[3])
return 1
`;

/**
 * KEYS[1] bucket {l: level in thousandths of a token, t: updated at ms, p: per second, b: burst}; ARGV per second,
 * burst, cost, now (ms). A missing bucket is full; a changed rate refills at the old one first and clamps.
 * Returns {allowed 1|0, level after (thousandths)}; the caller derives remaining and retry-after as TokenBucket does.
 * The key expires once the bucket would be full again: then a missing one reads the same.
 */
export const TAKE = `${EPOCH}local p, b, cost, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'l', 't', 'p', 'b')
local level, at, rate, burst = b * 1000, now, p, b
if s[1] then level, at, rate, burst = tonumber(s[1]), tonumber(s[2]), tonumber(s[3]), tonumber(s[4]) end
local function refill()
  if now > at then
    level = math.min(burst * 1000, level + (now - at) * rate)
    at = now
  end
end
if rate ~= p or burst ~= b then
  refill()
  rate, burst = p, b
  level = math.min(level, b * 1000)
end
refill()
local ok = 0
if cost * 1000 <= level then
  level = level - cost * 1000
  ok = 1
end
redis.call('HSET', KEYS[1], 'l', string.format('%.17g', level), 't', string.format('%.0f', at), 'p', ARGV[1], 'b', ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((b * 1000 - level) / p) + 1000))
return {ok, string.format('%.17g', level)}
`;

/**
 * KEYS[1] idempotency key; ARGV claim marker, claim ttl ms. The stored answer if there is one (or the marker of a
 * claim in flight); else claims the key for this request and returns false.
 */
export const CLAIM = `${EPOCH}local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;

/** KEYS[1] idempotency key; ARGV claim marker. Drops a claim (its request was not answered) if it is still ours. */
export const UNCLAIM = `${EPOCH}if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// Restoring counters the store lost (counters/counters-epoch.ts). The epoch key holds the epoch id while the
// counters are good, and `restoring ID` while the replicas' logs are being folded back in: counting refuses both
// an absent epoch and a restoring one, so no decision counts on counters that are not whole.

/** KEYS[1] epoch; ARGV new id. Starts restoring under a new epoch if the store has none; returns the epoch value. */
export const BEGIN = `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], 'restoring ' .. ARGV[1])
return 'restoring ' .. ARGV[1]
`;

/**
 * KEYS[1] counter, KEYS[2] epoch; ARGV epoch id, window, used, fired. Folds one replica's view of a counter in:
 * the newer window wins; within a window the larger usage and fired mark (a counter only grows in its window, and
 * each allowed consume's receipt recorded the shared count after it, so the largest any log holds is the count).
 * Only under epoch `id`, restoring or restored (a late replica's view is still folded in).
 */
export const RAISE = `
local epoch = redis.call('GET', KEYS[2])
if epoch ~= ARGV[1] and epoch ~= 'restoring ' .. ARGV[1] then return redis.error_reply('TAI_EPOCH ' .. (epoch or 'none')) end
local w, used, fired = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local c = redis.call('HMGET', KEYS[1], 'w', 'u', 'f')
if c[1] == w then
  used, fired = math.max(used, tonumber(c[2])), math.max(fired, tonumber(c[3]))
elseif c[1] and (w == '' or (c[1] ~= '' and tonumber(c[1]) > tonumber(w))) then
  return 0
end
redis.call('HSET', KEYS[1], 'w', w, 'u', string.format('%.0f', used), 'f', fired)
return 1
`;

/**
 * KEYS[1] epoch, KEYS[2] expected replicas, KEYS[3] restored replicas; ARGV epoch id. Ends a restore once every
 * expected replica has folded its log in: the epoch becomes `id`, and counting resumes. Returns 1 if it did.
 */
export const FINISH = `
if redis.call('GET', KEYS[1]) ~= 'restoring ' .. ARGV[1] then return 0 end
if #redis.call('SDIFF', KEYS[2], KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;
