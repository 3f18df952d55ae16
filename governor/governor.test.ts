import test from 'ava';
import { DecisionInputError } from './decision-input-error.ts';
import { Governor } from './governor.ts';
import { MemoryUsageStore } from './usage.ts';
import { ManualClock, MutablePolicy, quota, rate, tenant } from './fixtures.test-helper.ts';

function setup() {
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ quotas: { 'api-calls': quota({ limit: 10 }) }, rates: { requests: rate({ perSecond: 2, burst: 3 }) } }));
  return { clock, policy, governor: new Governor({ policy, clock }) };
}

test('check reads the policy through the facade', (t) => {
  const { governor } = setup();
  t.like(governor.check({ tenant: 'acme', feature: 'sso' }), { op: 'check', allowed: true, value: true });
  t.like(governor.check({ tenant: 'ghost', feature: 'sso' }), { allowed: false, reason: 'UnknownTenant' });
});

test('rate: burst, RateLimited with retryAfterMs, refill by the clock', (t) => {
  const { governor, clock } = setup();
  const take = (cost?: number) => governor.rate({ tenant: 'acme', name: 'requests', cost });
  t.deepEqual(take(), { op: 'rate', tenant: 'acme', name: 'requests', cost: 1, allowed: true, reason: 'Allowed', remaining: 2, retryAfterMs: 0, policy: 'd1gest-acme' });
  t.like(take(2), { allowed: true, remaining: 0 });
  t.like(take(), { allowed: false, reason: 'RateLimited', remaining: 0, retryAfterMs: 500 });
  clock.advance(500);
  t.like(take(), { allowed: true, remaining: 0 });
  t.like(take(4), { allowed: false, reason: 'RateLimited', retryAfterMs: -1 });
  t.like(take(0), { allowed: true, remaining: 0 });
  t.throws(() => take(-1), { instanceOf: DecisionInputError, message: /^cost: must be 0 or more, got -1$/ });
  t.throws(() => take(0.5), { instanceOf: DecisionInputError, message: /^cost: / });
});

test('rate: unknown tenant, suspended tenant and unknown name', (t) => {
  const { governor, policy } = setup();
  t.like(governor.rate({ tenant: 'ghost', name: 'requests' }), { allowed: false, reason: 'UnknownTenant', policy: undefined });
  t.like(governor.rate({ tenant: 'acme', name: 'toString' }), { allowed: false, reason: 'UnknownMetric' });
  policy.set(tenant({ suspended: true }));
  t.like(governor.rate({ tenant: 'acme', name: 'requests' }), { allowed: false, reason: 'TenantSuspended' });
});

test('batch answers in order, each tagged with its op, sharing one instant', (t) => {
  const { governor } = setup();
  const results = governor.batch([
    { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 6, idempotencyKey: 'a' },
    { op: 'check', tenant: 'acme', feature: 'audit' },
    { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 6 },
    { op: 'rate', tenant: 'acme', name: 'requests', cost: 3 },
    { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 6, idempotencyKey: 'a' },
  ]);
  t.deepEqual(
    results.map((r) => [r.op, r.allowed, r.reason]),
    [
      ['consume', true, 'Allowed'],
      ['check', false, 'FeatureNotEntitled'],
      ['consume', false, 'QuotaExceeded'],
      ['rate', true, 'Allowed'],
      ['consume', true, 'Allowed'],
    ],
  );
  t.is(results[4], results[0], 'a key repeated inside a batch replays');
});

test('a malformed batch item is named and nothing in the batch is decided', (t) => {
  const { governor } = setup();
  const error = t.throws(
    () =>
      governor.batch([
        { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 4 },
        { op: 'rate', tenant: 'acme', name: 'requests' },
        { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: -1 },
      ]),
    { instanceOf: DecisionInputError },
  );
  t.is(error?.field, 'decisions[2].amount');
  t.regex(error?.message ?? '', /^decisions\[2\]\.amount: must be 0 or more for counter metric/);
  t.is(governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 0 }).used, 0);
  t.is(governor.rate({ tenant: 'acme', name: 'requests', cost: 0 }).remaining, 3);
  const op = t.throws(() => governor.batch([{ op: 'delete' } as never]), { instanceOf: DecisionInputError });
  t.is(op?.message, 'decisions[0].op: must be "check", "consume" or "rate", got "delete"');
});

test('usage lives apart from the policy and survives a snapshot swap and a rebuild', (t) => {
  const { governor, policy, clock } = setup();
  governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 7 });
  policy.set(tenant({ quotas: { 'api-calls': quota({ limit: 10 }) }, digest: 'new-digest' }));
  t.like(governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 0 }), { used: 7, policy: 'new-digest' });
  const usage = new MemoryUsageStore();
  usage.restore(governor.usage.cells());
  const restarted = new Governor({ policy, clock, usage });
  t.like(restarted.consume({ tenant: 'acme', metric: 'api-calls', amount: 4 }), { allowed: false, used: 7 });
  const next = restarted.consume({ tenant: 'acme', metric: 'api-calls', amount: 1 });
  t.like(next, { allowed: true, used: 8 });
  t.is(next.crossing, undefined, '70 % had fired already before the rebuild');
});
