import type { ReserveAttempt, ReserveAttemptResult, SharedReservationEntry, SharedReservations } from '../governor/index.ts';
import { Script, type Client } from './redis-scripts-runner.ts';
import { guarded, type CallObserver } from './guarded-call.ts';

// A tenant's admission reservations (docs/adr/0007) are one hash `{tai}:a:TENANT` (in the one slot of ADR 0014), a field per review UID holding
// JSON {e: expires at (ms, the store's clock), k: object key, v: replaced resourceVersion, c: {replica: 1} the
// replicas whose informers count it, a: {resource: milli}}. Numbers travel as strings: cjson keeps 14 digits, and
// milli-bytes pass 10^14. The store's clock (TIME) dates them, so replicas' clocks need not agree.

/**
 * KEYS[1] the tenant's hash; ARGV[1] the attempt as JSON {replica, observed, caps, adds, confirmed, pending,
 * unjudgedPending, res?: {uid, k, v?, ttl}}. Drops expired reservations, records the replica's confirmations,
 * sums the live ones it does not count; if it has not judged some, returns {'unjudged', [[uid, k, v, ms left]…]};
 * else checks every cap and reserves when all hold: {'admitted' | 'exceeded', {resource: reserved}}. The review's
 * own UID (the API server retrying it, perhaps on another replica) is replaced, not counted.
 */
export const RESERVE_ADMISSION = `
local q = cjson.decode(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local own = q.res and q.res.uid or ''
local verdict = {}
for _, uid in ipairs(q.confirmed) do verdict[uid] = 'c' end
for _, uid in ipairs(q.pending) do verdict[uid] = 'p' end
local reserved, unjudged = {}, {}
for res in pairs(q.caps) do reserved[res] = 0 end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local uid, r = all[i], cjson.decode(all[i + 1])
  local left = tonumber(r.e) - now
  if left <= 0 then
    redis.call('HDEL', KEYS[1], uid)
  elseif uid ~= own and not r.c[q.replica] then
    if verdict[uid] == 'c' then
      r.c[q.replica] = 1
      redis.call('HSET', KEYS[1], uid, cjson.encode(r))
    elseif verdict[uid] == 'p' or q.unjudgedPending then
      for res in pairs(q.caps) do reserved[res] = reserved[res] + tonumber(r.a[res] or '0') end
    else
      table.insert(unjudged, {uid, r.k, r.v or '', string.format('%.0f', left)})
    end
  end
end
if #unjudged > 0 then return {'unjudged', cjson.encode(unjudged)} end
local out = {}
for res, v in pairs(reserved) do out[res] = string.format('%.0f', v) end
for res, limit in pairs(q.caps) do
  local add = tonumber(q.adds[res] or '0')
  if add > 0 and tonumber(q.observed[res] or '0') + reserved[res] + add > tonumber(limit) then return {'exceeded', cjson.encode(out)} end
end
if q.res then
  local ttl = tonumber(q.res.ttl)
  redis.call('HSET', KEYS[1], own, cjson.encode({e = string.format('%.0f', now + ttl), k = q.res.k, v = q.res.v, c = {}, a = q.adds}))
  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return {'admitted', cjson.encode(out)}
`;

/** KEYS[1] the tenant's hash; ARGV[1] a review UID. */
export const RELEASE_ADMISSION = `return redis.call('HDEL', KEYS[1], ARGV[1])`;

const reserveScript = new Script(RESERVE_ADMISSION);
const releaseScript = new Script(RELEASE_ADMISSION);

/**
 * The admission reservations of several webhook replicas in Redis or Valkey: one script per attempt, so
 * counting, checking and reserving are one atomic step across replicas. While the store is unreachable (or
 * slower than `timeoutMs`) a call rejects with CountersUnavailableError, and admission of capped resources is
 * refused (docs/webhook.md).
 */
export class RedisReservations implements SharedReservations {
  readonly #client: Client;
  readonly #timeoutMs: number;
  readonly #observe: CallObserver;

  constructor(client: Client, o: { timeoutMs: number; observe?: CallObserver }) {
    this.#client = client;
    this.#timeoutMs = o.timeoutMs;
    this.#observe = o.observe ?? (() => undefined);
  }

  async reserve(a: ReserveAttempt): Promise<ReserveAttemptResult> {
    const res = a.reservation && { uid: a.reservation.uid, k: a.reservation.key, ...(a.reservation.replaces !== undefined && { v: a.reservation.replaces }), ttl: String(a.reservation.ttlMs) };
    const request = {
      replica: a.replica, observed: texts(a.observed), caps: texts(a.caps), adds: texts(a.adds),
      // cjson reads an empty object as an empty array and back: both are empty tables to the script.
      confirmed: a.confirmed, pending: a.pending, unjudgedPending: a.unjudgedPending, ...(res && { res }),
    };
    const key = reservationsKey(a.tenant);
    // A reservation made after its review gave up holds capacity nobody was allowed: give it back.
    const late = (reply: unknown): void => void (res && (reply as string[])[0] === 'admitted' && this.release(a.tenant, res.uid).catch(() => undefined));
    const [outcome, body] = (await this.#guard(reserveScript.run(this.#client, [key], [JSON.stringify(request)]), late)) as [string, string];
    if (outcome === 'unjudged') return { outcome, reservations: (JSON.parse(body) as string[][]).map(entry) };
    return { outcome: outcome as 'admitted' | 'exceeded', reserved: new Map(Object.entries(JSON.parse(body) as Record<string, string>).map(([r, v]) => [r, Number(v)])) };
  }

  async release(tenant: string, uid: string): Promise<void> {
    await this.#guard(releaseScript.run(this.#client, [reservationsKey(tenant)], [uid]));
  }

  #guard<T>(reply: Promise<T>, late?: (reply: T) => void): Promise<T> {
    return guarded(reply, { timeoutMs: this.#timeoutMs, observe: this.#observe }, late);
  }
}

/** A tenant's admission reservations; the `{tenant}` hash tag keeps them in the slot of its other keys. */
function reservationsKey(tenant: string): string {
  return `{tai}:a:${tenant}`;
}

function texts(v: ReadonlyMap<string, number>): Record<string, string> {
  return Object.fromEntries([...v].map(([r, n]) => [r, String(n)]));
}

function entry([uid, key, replaces, left]: string[]): SharedReservationEntry {
  return { uid: uid!, key: key!, replaces: replaces === '' ? undefined : replaces, expiresInMs: Number(left) };
}
