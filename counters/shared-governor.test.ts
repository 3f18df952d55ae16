// The governor on shared counters, against a real redis-server (test/support/redis-server.ts): replicas together
// never pass a hard limit, fire a threshold once, answer a retried key as it was first answered, decide exactly
// as one in-process Governor does, and follow the unavailability policy when Redis stalls.
import test from 'ava';
import fc from 'fast-check';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QuotaKind } from '../crds/index.ts';
import { Governor, IdempotencyKeyInFlightError, MemoryUsageStore, SharedGovernor, type Decision, type DecisionRequest, type ThresholdEvent } from '../governor/index.ts';
import { ManualClock, MutablePolicy, quota, rate, tenant } from '../governor/fixtures.test-helper.ts';
import { pauseRedis, resumeRedis, startRedis, stopRedis, type RedisServer } from '../test/support/redis-server.ts';
import { useRedis } from './redis.test-helper.ts';
import { openSharedStore, type SharedStore } from './redis-connect.ts';

const fixture = useRedis(test);
const stores = fixture.stores;

async function store(replica: string, timeoutMs = 2000, on: RedisServer = fixture.server): Promise<SharedStore> {
  const s = await openSharedStore({ url: on.url, timeoutMs }, replica);
  stores.push(s);
  for (let i = 0; i < 250 && s.health().epoch.state !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
  return s;
}

/** Replicas of one deployment: each its own connection, all on one Redis. */
async function replicas(n: number, policy: MutablePolicy, clock: ManualClock, onThreshold?: (e: ThresholdEvent) => void): Promise<SharedGovernor[]> {
  const out: SharedGovernor[] = [];
  for (let i = 0; i < n; i++) {
    const s = await store(`replica-${i}`);
    out.push(new SharedGovernor({ policy, clock, counters: s.counters, answers: s.answers, ...(onThreshold && { onThreshold }) }));
  }
  return out;
}

let tenants = 0;
/** A tenant name no other test (or earlier run on this Redis) used. */
const fresh = (): string => `t${process.pid}-${++tenants}`;

test('three replicas, 60 concurrent consumes of 1 against a hard limit of 27: exactly 27 allowed', async (t) => {
  const name = fresh();
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ name, quotas: { builds: quota({ limit: 27 }) } }));
  const governors = await replicas(3, policy, clock);
  const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => governors[i % 3]!.consume({ tenant: name, metric: 'builds', amount: 1 })));
  t.is(answers.filter((a) => a.allowed).length, 27);
  t.true(answers.filter((a) => !a.allowed).every((a) => a.reason === 'QuotaExceeded' && a.used === 27));
  t.deepEqual([...new Set(answers.filter((a) => a.allowed).map((a) => a.used))].sort((a, b) => a - b), Array.from({ length: 27 }, (_, i) => i + 1), 'each allowed unit saw its own count');
  t.like(await governors[1]!.consume({ tenant: name, metric: 'builds', amount: 0 }), { allowed: false, used: 27, reason: 'QuotaExceeded' });
});

test('a threshold crossed by concurrent consumes on three replicas fires once', async (t) => {
  const name = fresh();
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ name, quotas: { builds: quota({ limit: 100, alertAt: [50, 90] }) } }));
  const fired: ThresholdEvent[] = [];
  const governors = await replicas(3, policy, clock, (e) => fired.push(e));
  await Promise.all(Array.from({ length: 99 }, (_, i) => governors[i % 3]!.consume({ tenant: name, metric: 'builds', amount: 1 })));
  t.deepEqual(fired.map((e) => e.threshold).sort(), [50, 90]);
  // Announced by the replica that moved the mark, with the usage its consume saw (at or past the line).
  t.true(fired.every((e) => e.used >= e.threshold && e.used <= 99), JSON.stringify(fired));
});

test('a retried idempotency key on another replica returns the first answer, byte for byte; a retry in flight is refused', async (t) => {
  const name = fresh();
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ name }));
  const [a, b] = await replicas(2, policy, clock);
  const first = await a!.consume({ tenant: name, metric: 'api-calls', amount: 5, idempotencyKey: 'req-1' });
  // Until the replica that claimed the key stores its answer, a retry is told to come back.
  await t.throwsAsync(b!.consume({ tenant: name, metric: 'api-calls', amount: 5, idempotencyKey: 'req-1' }), { instanceOf: IdempotencyKeyInFlightError });
  const recorded = { ...first, receipt: { index: 7, leafHash: 'ab'.repeat(32), origin: 'replica-0' } };
  await a!.settle(name, 'req-1', recorded);
  const retry = await b!.consume({ tenant: name, metric: 'api-calls', amount: 9, idempotencyKey: 'req-1' });
  t.is(JSON.stringify(retry), JSON.stringify(recorded));
  t.like(await b!.consume({ tenant: name, metric: 'api-calls', amount: 0 }), { used: 5 }, 'the retry counted nothing');
});

type Step = { replica: number; request: DecisionRequest } | { wait: number } | { limit: number };

const kinds = fc.constantFrom<QuotaKind>('counter', 'gauge');
const stepOf = (kind: QuotaKind): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        replica: fc.integer({ min: 0, max: 2 }),
        request: fc.record({
          op: fc.constant('consume' as const),
          tenant: fc.constant(''),
          metric: fc.constant('api-calls'),
          amount: fc.integer({ min: kind === 'gauge' ? -20 : 0, max: 30 }),
          idempotencyKey: fc.option(fc.constantFrom('k0', 'k1', 'k2'), { nil: undefined }),
        }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ replica: fc.integer({ min: 0, max: 2 }), request: fc.record({ op: fc.constant('rate' as const), tenant: fc.constant(''), name: fc.constant('requests'), cost: fc.integer({ min: 0, max: 8 }) }) }) },
    { weight: 1, arbitrary: fc.record({ wait: fc.integer({ min: 0, max: 3000 }) }) },
    { weight: 1, arbitrary: fc.record({ limit: fc.integer({ min: 0, max: 80 }) }) },
  );

test('property: replicas on shared counters decide exactly as one in-process Governor (consumes, gauges, soft, rates, keys, thresholds)', async (t) => {
  const scenario = kinds.chain((kind) =>
    fc.record({ kind: fc.constant(kind), enforcement: fc.constantFrom('hard' as const, 'soft' as const), steps: fc.array(stepOf(kind), { maxLength: 40 }) }),
  );
  const sharedStores = [await store('p0'), await store('p1'), await store('p2')];
  await fc.assert(
    fc.asyncProperty(scenario, async ({ kind, enforcement, steps }) => {
      const name = fresh();
      const clock = new ManualClock();
      const q = (limit: number) => quota({ kind, enforcement, limit, alertAt: [50, 80, 100] });
      const policy = new MutablePolicy(tenant({ name, quotas: { 'api-calls': q(40) }, rates: { requests: rate({ perSecond: 3, burst: 7 }) } }));
      const local: ThresholdEvent[] = [];
      const shared: ThresholdEvent[] = [];
      const one = new Governor({ policy, clock, usage: new MemoryUsageStore(), onThreshold: (e) => local.push(e) });
      const many = sharedStores.map((s) => new SharedGovernor({ policy, clock, counters: s.counters, answers: s.answers, onThreshold: (e) => shared.push(e) }));
      for (const s of steps) {
        if ('wait' in s) clock.advance(s.wait);
        else if ('limit' in s) policy.setQuota(name, 'api-calls', q(s.limit));
        else {
          const request = { ...s.request, tenant: name } as DecisionRequest;
          const expected: Decision = one.batch([request])[0]!;
          const replica = many[s.replica]!;
          const got: Decision = request.op === 'consume' ? await replica.consume(request) : request.op === 'rate' ? await replica.rate(request) : replica.check(request);
          if (request.op === 'consume' && request.idempotencyKey !== undefined && request.amount !== 0 && got === expected) continue;
          // The shared replay is the stored (settled) answer; settle as the recording layer does.
          if (request.op === 'consume' && request.idempotencyKey !== undefined && request.amount !== 0 && !('receipt' in got)) await replica.settle(name, request.idempotencyKey, got as never);
          t.deepEqual(got, expected, JSON.stringify(request));
        }
      }
      t.deepEqual(shared, local);
    }),
    { numRuns: 40 },
  );
});

test('while Redis stalls: a hard quota denies, soft quotas and rate limits allow, each answering CountersUnavailable; then it recovers', async (t) => {
  const name = fresh();
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ name, quotas: { hard: quota({ limit: 10 }), soft: quota({ limit: 10, enforcement: 'soft' }) } }));
  // Its own server: the other tests go on meanwhile.
  const stalling = await startRedis();
  t.teardown(() => stopRedis(stalling));
  const s = await store('stall', 300, stalling);
  const g = new SharedGovernor({ policy, clock, counters: s.counters, answers: s.answers });
  t.like(await g.consume({ tenant: name, metric: 'hard', amount: 1 }), { allowed: true, used: 1 });
  pauseRedis(stalling);
  try {
    t.like(await g.consume({ tenant: name, metric: 'hard', amount: 1 }), { allowed: false, reason: 'CountersUnavailable' });
    t.like(await g.consume({ tenant: name, metric: 'soft', amount: 1, idempotencyKey: 'during' }), { allowed: true, reason: 'CountersUnavailable' });
    t.like(await g.rate({ tenant: name, name: 'requests' }), { allowed: true, reason: 'CountersUnavailable' });
  } finally {
    resumeRedis(stalling);
  }
  let after = await g.consume({ tenant: name, metric: 'hard', amount: 1 });
  for (let i = 0; i < 50 && after.reason === 'CountersUnavailable'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await g.consume({ tenant: name, metric: 'hard', amount: 1 });
  }
  t.like(after, { allowed: true });
  // The stalled reserve ran once Redis resumed, and its late reply gave the unit back: a transient over-count
  // (the safe side of a hard quota), settled as soon as the reply arrives.
  const peek = async () => (await g.consume({ tenant: name, metric: 'hard', amount: 0 })).used;
  for (let i = 0; i < 50 && (await peek()) !== 2; i++) await new Promise((r) => setTimeout(r, 20));
  t.is(await peek(), 2, 'the stalled call counted nothing in the end');
  t.like(await g.consume({ tenant: name, metric: 'soft', amount: 1, idempotencyKey: 'during' }), { allowed: true, reason: 'Allowed', used: 1 }, 'a key answered while unavailable was not stored');
});

test('Memorystore-style: rediss:// with the AUTH string from a file and the server CA; a wrong password is unavailable, not a crash', async (t) => {
  const secure = await startRedis({ tls: true, password: 'memorystore-auth' });
  t.teardown(() => stopRedis(secure));
  const name = fresh();
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ name, quotas: { builds: quota({ limit: 2 }) } }));
  const s = await openSharedStore({ url: secure.url, passwordFile: secure.passwordFile, caFile: secure.caFile, timeoutMs: 2000 }, 'tls');
  stores.push(s);
  t.is(s.health().epoch.state, 'ready');
  const g = new SharedGovernor({ policy, clock, counters: s.counters, answers: s.answers });
  t.like(await g.consume({ tenant: name, metric: 'builds', amount: 2 }), { allowed: true, used: 2 });
  t.like(await g.consume({ tenant: name, metric: 'builds', amount: 1 }), { allowed: false, reason: 'QuotaExceeded' });
  const wrong = join(await mkdtemp(join(tmpdir(), 'tai-pw-')), 'password');
  await writeFile(wrong, 'not-it');
  const refused = await openSharedStore({ url: secure.url, passwordFile: wrong, caFile: secure.caFile, timeoutMs: 300 }, 'wrong');
  stores.push(refused);
  t.false(refused.health().connected);
  const g2 = new SharedGovernor({ policy, clock, counters: refused.counters, answers: refused.answers });
  t.like(await g2.consume({ tenant: name, metric: 'builds', amount: 0 }), { allowed: false, reason: 'CountersUnavailable' });
});

test('a key repeated within a batch is answered as the first item that stores it, counted once (as in process)', async (t) => {
  const name = fresh();
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ name }));
  const [g] = await replicas(1, policy, clock);
  const item = { op: 'consume' as const, tenant: name, metric: 'api-calls', amount: 4, idempotencyKey: 'batch-k' };
  const [a, b, peek] = await g!.batch([item, { ...item, amount: 9 }, { ...item, amount: 0 }]);
  t.is(b, a, 'the repeat is the first decision');
  t.is(peek, a, 'a peek with a stored key replays it');
  const one = new Governor({ policy: new MutablePolicy(tenant({ name })), clock });
  t.deepEqual(one.batch([item, { ...item, amount: 9 }, { ...item, amount: 0 }]), [a, a, a]);
  t.like(await g!.consume({ tenant: name, metric: 'api-calls', amount: 0 }), { used: 4 });
});
