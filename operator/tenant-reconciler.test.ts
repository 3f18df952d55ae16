import test from 'ava';
import { API_VERSION, type Condition, type Sku, type Tenant, type TenantSpec } from '../crds/index.ts';
import { MemoryUsageStore, PolicyCompiler } from '../governor/index.ts';
import { EventRecorder } from './event-recorder.ts';
import { fakeCluster } from './fake-cluster.test-helper.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { StatusWriter } from './status-writer.ts';
import { TenantReconciler, tenantStatus } from './tenant-reconciler.ts';
import type { UsageRow, UsageStatus } from './usage-summary.ts';

const T0 = Date.parse('2026-03-10T12:00:00Z');
const MARCH = Date.parse('2026-03-01T00:00:00Z');
const growth: Sku = { apiVersion: API_VERSION, kind: 'SKU', metadata: { name: 'growth', generation: 1 }, spec: { quotas: { 'api-calls': { limit: 1000, alertAt: [80] } } } };
const tenantOf = (spec: TenantSpec): Tenant => ({ apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'acme', generation: 1, resourceVersion: '7', uid: 'uid-acme' }, spec });

function setup(tenant: Tenant, options: { namespaces?: (name: string) => number } = {}) {
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [growth, tenant] }, T0);
  const cluster = fakeCluster([tenant]);
  const clock = { now: T0 };
  const ctx: ReconcileContext = {
    snapshot: () => compiler.snapshot,
    invalid: () => undefined,
    writer: new StatusWriter(cluster.api),
    events: new EventRecorder({ api: cluster.api, component: 'tai-operator', instance: 'test', now: () => clock.now, log: () => undefined }),
    now: () => clock.now,
  };
  const usage = new MemoryUsageStore();
  const reconciler = new TenantReconciler({ tenants: cluster.informer, ctx, usage, namespaces: options.namespaces ?? (() => 2), usageEveryMs: 1000 });
  const status = () => cluster.cache.get('acme')?.status as { conditions: Condition[]; usage?: UsageRow[]; namespaces: number };
  const condition = (type: string) => status().conditions.find((c) => c.type === type);
  return { ...cluster, clock, usage, reconciler, status, condition };
}

const ready = { type: 'Ready', status: 'True' as const, reason: 'Compiled', message: 'ok' };

test('tenantStatus keeps the usage already in the status when no new usage is given', (t) => {
  const old = { ...tenantOf({ sku: 'growth' }), status: { usage: [{ metric: 'api-calls', used: 5, limit: 1000, percent: 0 }], usagePercent: 0 } };
  const s = tenantStatus(old, { ready, namespaces: 4, usage: undefined }, T0 + 123);
  t.like(s, { observedGeneration: 1, namespaces: 4, usage: old.status.usage, usagePercent: 0 });
  t.deepEqual((s.conditions as Array<{ type: string; status: string; lastTransitionTime: string }>).map((c) => [c.type, c.status, c.lastTransitionTime]), [
    ['Ready', 'True', '2026-03-10T12:00:00Z'],
    ['Suspended', 'False', '2026-03-10T12:00:00Z'],
  ]);
});

test('tenantStatus writes new usage and its two quota conditions', (t) => {
  const usage: UsageStatus = {
    usage: [{ metric: 'api-calls', used: 900, limit: 1000, percent: 90 }],
    usagePercent: 90,
    conditions: [
      { type: 'QuotaExhausted', status: 'False', reason: 'WithinLimits', message: '' },
      { type: 'QuotaWarning', status: 'True', reason: 'ThresholdCrossed', message: 'api-calls 90%' },
    ],
  };
  const s = tenantStatus(tenantOf({ sku: 'growth' }), { ready, namespaces: 0, usage }, T0);
  t.like(s, { usage: usage.usage, usagePercent: 90 });
  t.deepEqual((s.conditions as Array<{ type: string }>).map((c) => c.type), ['QuotaExhausted', 'QuotaWarning', 'Ready', 'Suspended']);
});

test('a compiled tenant at its current generation gets Ready True, usage and no Event', async (t) => {
  const s = setup(tenantOf({ sku: 'growth' }));
  t.deepEqual(await s.reconciler.reconcile('acme'), {});
  t.deepEqual(s.calls.map((c) => `${c.method} ${c.path}`), ['PATCH /apis/tai.dev/v1alpha1/tenants/acme/status']);
  t.like(s.calls[0]?.body, { metadata: { resourceVersion: '7' } });
  t.like(s.condition('Ready'), { status: 'True', reason: 'Compiled' });
  t.like(s.status(), { observedGeneration: 1, usage: [{ metric: 'api-calls', used: 0, limit: 1000 }], usagePercent: 0 });
});

test('nothing is written while the compiler has not seen the generation in the cache', async (t) => {
  const s = setup(tenantOf({ sku: 'growth' }));
  s.cache.get('acme')!.metadata.generation = 2;
  t.deepEqual(await s.reconciler.reconcile('acme'), {});
  t.deepEqual(s.calls, []);
});

test('a tenant on a missing SKU gets Ready False SKUNotFound and a Warning Event', async (t) => {
  const s = setup(tenantOf({ sku: 'platinum' }));
  await s.reconciler.reconcile('acme');
  t.like(s.condition('Ready'), { status: 'False', reason: 'SKUNotFound' });
  t.regex(s.condition('Ready')!.message, /^spec\.sku: SKU "platinum" not found/);
  t.is(s.calls[1]?.method, 'POST');
  t.is(s.calls[1]?.path, '/api/v1/namespaces/default/events');
  t.like(s.calls[1]?.body, { type: 'Warning', reason: 'SKUNotFound', involvedObject: { kind: 'Tenant', name: 'acme', uid: 'uid-acme' } });
});

test('an unchanged status is not rewritten and raises no Event', async (t) => {
  const s = setup(tenantOf({ sku: 'platinum' }));
  await s.reconciler.reconcile('acme');
  const before = s.calls.length;
  s.clock.now = T0 + 5_000;
  t.deepEqual(await s.reconciler.reconcile('acme'), {});
  t.is(s.calls.length, before);
});

test('usage is rewritten at most once per usageEveryMs, with a requeue while it waits', async (t) => {
  const s = setup(tenantOf({ sku: 'growth' }));
  await s.reconciler.reconcile('acme');
  const r = s.usage.reserve({ key: { tenant: 'acme', metric: 'api-calls' }, windowStart: MARCH, amount: 850 });
  s.usage.commit(r.reservation!);
  s.clock.now = T0 + 400;
  t.deepEqual(await s.reconciler.reconcile('acme'), { requeueAfterMs: 600 });
  t.is(s.calls.length, 1, 'throttled: no write yet');
  t.is(s.status().usage?.[0]?.used, 0);
  s.clock.now = T0 + 1_000;
  t.deepEqual(await s.reconciler.reconcile('acme'), {});
  t.is(s.calls.length, 2);
  t.is(s.status().usage?.[0]?.used, 850);
  t.like(s.condition('QuotaWarning'), { status: 'True', message: 'past an alert threshold: api-calls 85%' });
});

test('a suspended tenant has Suspended True', async (t) => {
  const s = setup(tenantOf({ sku: 'growth', suspended: true }));
  await s.reconciler.reconcile('acme');
  t.like(s.condition('Suspended'), { status: 'True', reason: 'Suspended' });
});

test('the namespace count comes from the namespaces callback for this tenant', async (t) => {
  const asked: string[] = [];
  const s = setup(tenantOf({ sku: 'growth' }), { namespaces: (name) => asked.push(name) && 3 });
  await s.reconciler.reconcile('acme');
  t.deepEqual(asked, ['acme']);
  t.is(s.status().namespaces, 3);
});

test('a tenant gone from the cache or being deleted is left alone', async (t) => {
  const s = setup(tenantOf({ sku: 'growth' }));
  t.deepEqual(await s.reconciler.reconcile('nobody'), {});
  s.cache.get('acme')!.metadata.deletionTimestamp = '2026-03-10T11:00:00Z';
  t.deepEqual(await s.reconciler.reconcile('acme'), {});
  t.deepEqual(s.calls, []);
});
