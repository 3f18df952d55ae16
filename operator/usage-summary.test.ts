import test from 'ava';
import { API_VERSION, type SkuSpec } from '../crds/index.ts';
import { MemoryUsageStore, PolicyCompiler, quotaWindow, type CompiledTenant } from '../governor/index.ts';
import { usageStatus } from './usage-summary.ts';

const NOW = Date.parse('2026-03-10T12:34:56Z');

const PLAN: SkuSpec = {
  quotas: {
    'api-calls': { limit: 1000, window: 'month', enforcement: 'hard', alertAt: [80] },
    builds: { limit: 200, window: 'day', enforcement: 'soft', alertAt: [80, 100] },
    seats: { limit: 5, kind: 'gauge' },
  },
};

function compiledTenant(spec: SkuSpec = PLAN): CompiledTenant {
  const compiler = new PolicyCompiler();
  const snapshot = compiler.apply(
    {
      upsert: [
        { apiVersion: API_VERSION, kind: 'SKU', metadata: { name: 'plan', generation: 1 }, spec },
        { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'acme', generation: 1 }, spec: { sku: 'plan' } },
      ],
    },
    NOW,
  );
  return snapshot.tenants.get('acme')!;
}

/** Records units of each metric in the window the governor would count at `at` (no window for gauges). */
function use(usage: MemoryUsageStore, tenant: CompiledTenant, amounts: Record<string, number>, at = NOW): void {
  for (const [metric, amount] of Object.entries(amounts)) {
    const q = tenant.quotas[metric]!;
    const window = q.kind === 'gauge' ? undefined : quotaWindow({ now: at, unit: q.window, reset: q.reset, anchor: tenant.billingAnchor });
    const r = usage.reserve({ key: { tenant: tenant.name, metric }, windowStart: window?.start ?? null, amount });
    usage.commit(r.reservation!);
  }
}

test('an unused tenant has one zero row per metric, sorted, with window ends for counters only', (t) => {
  const s = usageStatus(compiledTenant(), new MemoryUsageStore(), NOW);
  t.deepEqual(s.usage, [
    { metric: 'api-calls', used: 0, limit: 1000, percent: 0, resetsAt: '2026-04-01T00:00:00Z' },
    { metric: 'builds', used: 0, limit: 200, percent: 0, resetsAt: '2026-03-11T00:00:00Z' },
    { metric: 'seats', used: 0, limit: 5, percent: 0 },
  ]);
  t.is(s.usagePercent, 0);
  t.like(s.conditions[0], { type: 'QuotaExhausted', status: 'False', reason: 'WithinLimits' });
  t.like(s.conditions[1], { type: 'QuotaWarning', status: 'False', reason: 'BelowThresholds' });
});

test('percent rounds down and usagePercent is the highest of the rows', (t) => {
  const tenant = compiledTenant();
  const usage = new MemoryUsageStore();
  use(usage, tenant, { 'api-calls': 333, seats: 3 });
  const s = usageStatus(tenant, usage, NOW);
  t.deepEqual(s.usage.map((r) => [r.metric, r.used, r.percent]), [['api-calls', 333, 33], ['builds', 0, 0], ['seats', 3, 60]]);
  t.is(s.usagePercent, 60);
});

test('a hard quota at its limit is QuotaExhausted, and is not also reported as a warning', (t) => {
  const tenant = compiledTenant();
  const usage = new MemoryUsageStore();
  use(usage, tenant, { 'api-calls': 1000 });
  const [exhausted, warning] = usageStatus(tenant, usage, NOW).conditions;
  t.deepEqual(exhausted, { type: 'QuotaExhausted', status: 'True', reason: 'HardLimitReached', message: 'denying further use: api-calls 1000/1000' });
  t.is(warning.status, 'False');
});

test('a soft quota past its limit only warns, naming the percent reached', (t) => {
  const tenant = compiledTenant();
  const usage = new MemoryUsageStore();
  use(usage, tenant, { builds: 250 });
  const [exhausted, warning] = usageStatus(tenant, usage, NOW).conditions;
  t.is(exhausted.status, 'False');
  t.deepEqual(warning, { type: 'QuotaWarning', status: 'True', reason: 'ThresholdCrossed', message: 'past an alert threshold: builds 125%' });
});

test('a quota warns from its first alert threshold, not below it', (t) => {
  const tenant = compiledTenant();
  const below = new MemoryUsageStore();
  use(below, tenant, { 'api-calls': 799 });
  t.is(usageStatus(tenant, below, NOW).conditions[1].status, 'False');
  const at = new MemoryUsageStore();
  use(at, tenant, { 'api-calls': 800 });
  t.is(usageStatus(tenant, at, NOW).conditions[1].message, 'past an alert threshold: api-calls 80%');
});

test('usage from a previous window does not count in the current one', (t) => {
  const tenant = compiledTenant();
  const usage = new MemoryUsageStore();
  use(usage, tenant, { builds: 150 }, Date.parse('2026-03-09T23:00:00Z'));
  t.is(usageStatus(tenant, usage, NOW).usage.find((r) => r.metric === 'builds')?.used, 0);
});

test('a zero limit reads as 100 percent once anything is used', (t) => {
  const tenant = compiledTenant({ quotas: { exports: { limit: 0, enforcement: 'soft', alertAt: [100] } } });
  const usage = new MemoryUsageStore();
  t.is(usageStatus(tenant, usage, NOW).usagePercent, 0);
  use(usage, tenant, { exports: 1 });
  t.is(usageStatus(tenant, usage, NOW).usagePercent, 100);
});
