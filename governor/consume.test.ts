import test from 'ava';
import type { CompiledQuota, CompiledTenant } from './types.ts';
import type { ThresholdEvent } from './governor.ts';
import { DecisionInputError } from './decision-input-error.ts';
import { Governor } from './governor.ts';
import { IDEMPOTENCY_TTL_MS } from './idempotency.ts';
import { ManualClock, MutablePolicy, T0, quota, tenant } from './fixtures.test-helper.ts';

const METRIC = 'api-calls';

function setup(q: Partial<CompiledQuota> = {}, t: Partial<CompiledTenant> = {}) {
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ quotas: { [METRIC]: quota(q) }, ...t }));
  const events: ThresholdEvent[] = [];
  const governor = new Governor({ policy, clock, onThreshold: (event) => events.push(event) });
  const consume = (amount: number, idempotencyKey?: string) =>
    governor.consume({ tenant: 'acme', metric: METRIC, amount, idempotencyKey });
  const used = () => consume(0).used;
  return { clock, policy, governor, events, consume, used };
}

test('hard: allowed up to the limit exactly, denied past it, and a denial is not counted', (t) => {
  const { consume, used } = setup({ limit: 10 });
  t.like(consume(7), { allowed: true, reason: 'Allowed', used: 7, limit: 10, remaining: 3 });
  t.like(consume(4), { allowed: false, reason: 'QuotaExceeded', used: 7, remaining: 3 });
  t.is(used(), 7);
  t.like(consume(3), { allowed: true, reason: 'Allowed', used: 10, remaining: 0 });
  t.like(consume(1), { allowed: false, reason: 'QuotaExceeded', used: 10 });
  t.is(used(), 10);
});

test('a consume decision carries the wire fields', (t) => {
  const { consume } = setup({ limit: 10 });
  t.deepEqual(consume(2), {
    op: 'consume',
    tenant: 'acme',
    metric: METRIC,
    amount: 2,
    allowed: true,
    reason: 'Allowed',
    used: 2,
    limit: 10,
    remaining: 8,
    resetsAt: '2026-12-01T00:00:00Z',
    windowStart: Date.parse('2026-11-01T00:00:00Z'),
    policy: 'd1gest-acme',
  });
});

test('soft: allowed and counted past the limit, marked AllowedOverage', (t) => {
  const { consume, used } = setup({ limit: 10, enforcement: 'soft' });
  t.like(consume(10), { allowed: true, reason: 'Allowed', used: 10 });
  t.like(consume(5), { allowed: true, reason: 'AllowedOverage', used: 15, remaining: 0 });
  t.is(used(), 15);
});

test('observe: always allowed and counted, reason Allowed', (t) => {
  const { consume } = setup({ limit: 10, enforcement: 'observe' });
  t.like(consume(25), { allowed: true, reason: 'Allowed', used: 25, remaining: 0 });
});

test('peeks count nothing, fire nothing, and answer whether one more unit fits', (t) => {
  const hard = setup({ limit: 10 });
  t.like(hard.consume(0), { allowed: true, reason: 'Allowed', used: 0 });
  hard.consume(6); // 60 %: below every threshold
  t.like(hard.consume(0), { allowed: true, used: 6 });
  hard.consume(4); // 100 %
  t.like(hard.consume(0), { allowed: false, reason: 'QuotaExceeded', used: 10 });
  t.is(hard.events.length, 1, 'only the consume that reached 100 % fired');
  const soft = setup({ limit: 10, enforcement: 'soft' });
  soft.consume(10);
  t.like(soft.consume(0), { allowed: true, reason: 'AllowedOverage', used: 10 });
  const observe = setup({ limit: 0, enforcement: 'observe' });
  t.like(observe.consume(0), { allowed: true, reason: 'Allowed', used: 0 });
  t.is(observe.events.length, 0);
});

test('a peek does not store its idempotency key', (t) => {
  const { consume, used } = setup({ limit: 10 });
  t.like(consume(0, 'req-1'), { amount: 0, used: 0 });
  t.like(consume(3, 'req-1'), { amount: 3, used: 3 }, 'the key was free: this consume counts');
  t.is(used(), 3);
});

test('an idempotent replay returns the identical object and counts nothing, even with another amount', (t) => {
  const { consume, used, events } = setup({ limit: 10 });
  const first = consume(7, 'req-7');
  t.is(consume(7, 'req-7'), first);
  t.is(consume(2, 'req-7'), first);
  t.is(consume(0, 'req-7'), first, 'a stored key replays whatever the amount');
  t.is(used(), 7);
  t.is(events.length, 1, 'the replay does not announce the crossing again');
  t.like(first, { used: 7, crossing: { threshold: 70 } });
});

test('a denied decision is replayed too, even after the limit is raised', (t) => {
  const { consume, policy } = setup({ limit: 5 });
  const denied = consume(6, 'req-1');
  t.false(denied.allowed);
  policy.setQuota('acme', METRIC, quota({ limit: 100 }));
  t.is(consume(6, 'req-1'), denied);
  t.true(consume(6, 'req-2').allowed);
});

test('idempotency keys are per tenant and expire after 24 h', (t) => {
  const { consume, used, clock, governor, policy } = setup({ limit: 100, window: 'year' });
  policy.set(tenant({ name: 'globex', digest: 'd1gest-globex' }));
  const first = consume(5, 'k');
  t.like(governor.consume({ tenant: 'globex', metric: METRIC, amount: 5, idempotencyKey: 'k' }), { tenant: 'globex', used: 5 });
  clock.advance(IDEMPOTENCY_TTL_MS - 1);
  t.is(consume(5, 'k'), first);
  clock.advance(1);
  const after = consume(5, 'k');
  t.not(after, first);
  t.is(after.used, 10);
  t.is(used(), 10);
});

test('window rollover resets usage and re-arms thresholds', (t) => {
  const { consume, clock, events } = setup({ limit: 10, window: 'day' });
  clock.ms = Date.parse('2026-11-15T23:59:59.999Z');
  t.like(consume(10), { used: 10, resetsAt: '2026-11-16T00:00:00Z', crossing: { threshold: 100, windowStart: Date.parse('2026-11-15T00:00:00Z') } });
  t.false(consume(1).allowed);
  clock.advance(1);
  t.like(consume(8), { allowed: true, used: 8, resetsAt: '2026-11-17T00:00:00Z', crossing: { threshold: 70 } });
  t.deepEqual(
    events.map((e) => e.threshold),
    [100, 70],
  );
});

test('raising the limit mid-window takes effect at once; lowering it below usage denies further consumption', (t) => {
  const { consume, policy, used } = setup({ limit: 10 });
  consume(10);
  t.false(consume(1).allowed);
  policy.setQuota('acme', METRIC, quota({ limit: 15 }));
  t.like(consume(5), { allowed: true, used: 15, limit: 15, policy: 'd1gest-acme+' });
  policy.setQuota('acme', METRIC, quota({ limit: 12 }));
  t.like(consume(1), { allowed: false, reason: 'QuotaExceeded', used: 15, remaining: 0 });
  t.is(used(), 15);
});

test('limit 0: hard denies everything, a peek is denied, soft counts as 100 %', (t) => {
  const hard = setup({ limit: 0 });
  t.like(hard.consume(1), { allowed: false, reason: 'QuotaExceeded', used: 0, remaining: 0 });
  t.like(hard.consume(0), { allowed: false, reason: 'QuotaExceeded' });
  const soft = setup({ limit: 0, enforcement: 'soft' });
  t.like(soft.consume(1), { allowed: true, reason: 'AllowedOverage', used: 1, crossing: { threshold: 100, percent: 100 } });
});

test('thresholds fire once per window, only the highest crossed, with the crossing in the decision and the listener', (t) => {
  const { consume, events } = setup({ limit: 100 });
  t.is(consume(50).crossing, undefined);
  const jump = consume(45);
  t.deepEqual(jump.crossing, { threshold: 90, percent: 95, used: 95, limit: 100, windowStart: Date.parse('2026-11-01T00:00:00Z') });
  t.is(consume(1).crossing, undefined);
  t.is(consume(4).crossing?.threshold, 100);
  t.is(consume(0).crossing, undefined);
  t.deepEqual(events, [
    { threshold: 90, percent: 95, used: 95, limit: 100, windowStart: Date.parse('2026-11-01T00:00:00Z'), tenant: 'acme', metric: METRIC },
    { threshold: 100, percent: 100, used: 100, limit: 100, windowStart: Date.parse('2026-11-01T00:00:00Z'), tenant: 'acme', metric: METRIC },
  ]);
});

test('gauges: +n and −n, floor at 0, hard cap, release always allowed, no window', (t) => {
  const { consume, policy, used } = setup({ kind: 'gauge', limit: 5, window: 'month' });
  t.like(consume(4), { allowed: true, used: 4, resetsAt: null });
  t.like(consume(2), { allowed: false, reason: 'QuotaExceeded', used: 4 });
  t.like(consume(-3), { allowed: true, reason: 'Allowed', used: 1 });
  t.like(consume(-5), { allowed: true, used: 0, amount: -5 });
  t.is(used(), 0);
  consume(5);
  policy.setQuota('acme', METRIC, quota({ kind: 'gauge', limit: 2 }));
  t.like(consume(-1), { allowed: true, reason: 'Allowed', used: 4, remaining: 0 }, 'release allowed while over the lowered limit');
  t.false(consume(1).allowed);
});

test('soft gauge releasing while still past the limit is AllowedOverage', (t) => {
  const { consume } = setup({ kind: 'gauge', limit: 2, enforcement: 'soft' });
  consume(5);
  t.like(consume(-1), { allowed: true, reason: 'AllowedOverage', used: 4 });
  t.like(consume(-2), { allowed: true, reason: 'Allowed', used: 2 });
});

test('gauge hovering at a threshold does not re-fire; falling 5 points below re-arms it', (t) => {
  const { consume, events } = setup({ kind: 'gauge', limit: 100 });
  consume(90);
  for (let i = 0; i < 5; i++) {
    consume(-1);
    consume(1);
  }
  t.deepEqual(
    events.map((e) => e.threshold),
    [90],
  );
  consume(-5); // 85 %: re-armed
  t.is(consume(5).crossing?.threshold, 90);
  t.like(events.at(-1), { windowStart: null });
});

test('negative amounts for counters and non-integer amounts are input errors, and count nothing', (t) => {
  const { consume, used } = setup({ limit: 10 });
  const negative = t.throws(() => consume(-1), { instanceOf: DecisionInputError });
  t.is(negative?.field, 'amount');
  t.regex(negative?.message ?? '', /counter metric "api-calls".*got -1/);
  for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    t.throws(() => consume(bad), { instanceOf: DecisionInputError, message: /^amount: must be a whole number/ });
  }
  t.throws(() => consume(1, ''), { instanceOf: DecisionInputError, message: /^idempotencyKey:/ });
  t.is(used(), 0);
});

test('unknown tenant, unknown metric and suspended tenant are denied without counting', (t) => {
  const { governor, consume, policy, used } = setup({ limit: 10 });
  t.deepEqual(governor.consume({ tenant: 'ghost', metric: METRIC, amount: 1 }), {
    op: 'consume',
    tenant: 'ghost',
    metric: METRIC,
    amount: 1,
    allowed: false,
    reason: 'UnknownTenant',
    used: 0,
    limit: 0,
    remaining: 0,
    resetsAt: null,
    windowStart: null,
  });
  t.like(governor.consume({ tenant: 'acme', metric: 'constructor', amount: 1 }), { reason: 'UnknownMetric', policy: 'd1gest-acme' });
  consume(3);
  policy.set(tenant({ suspended: true, quotas: { [METRIC]: quota({ limit: 10 }) } }));
  t.like(consume(1), { allowed: false, reason: 'TenantSuspended', used: 3, limit: 10 });
  t.like(governor.consume({ tenant: 'acme', metric: 'nope', amount: 1 }), { reason: 'TenantSuspended' });
  policy.set(tenant({ quotas: { [METRIC]: quota({ limit: 10 }) } }));
  t.is(used(), 3);
});

test('anchored monthly windows follow the billing anchor', (t) => {
  const { consume, clock } = setup({ limit: 10, reset: 'anchor' }, { billingAnchor: Date.parse('2026-03-14T00:00:00Z') });
  clock.ms = T0; // 2026-11-15
  t.like(consume(10), { used: 10, resetsAt: '2026-12-14T00:00:00Z' });
  clock.ms = Date.parse('2026-12-14T00:00:00Z');
  t.like(consume(1), { allowed: true, used: 1, resetsAt: '2027-01-14T00:00:00Z' });
});
