import test from 'ava';
import { API_VERSION, type Condition, type Quota, type QuotaGrantSpec, type Sku, type Tenant } from '../crds/index.ts';
import { PolicyCompiler } from '../governor/index.ts';
import { EventRecorder } from './event-recorder.ts';
import { fakeCluster } from './fake-cluster.test-helper.ts';
import { QuotaReconciler, quotaStatus } from './quota-reconciler.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { StatusWriter } from './status-writer.ts';

const T0 = Date.parse('2026-03-10T12:00:00Z');
const starter: Sku = { apiVersion: API_VERSION, kind: 'SKU', metadata: { name: 'starter', generation: 1 }, spec: { quotas: { builds: { limit: 200, window: 'day' } } } };
const tenantOf = (name: string, labels: Record<string, string>): Tenant => ({ apiVersion: API_VERSION, kind: 'Tenant', metadata: { name, generation: 1, labels }, spec: { sku: 'starter' } });
const TENANTS = [tenantOf('acme', {}), tenantOf('globex', { 'tai.dev/trial': 'true' }), tenantOf('hooli', { 'tai.dev/trial': 'true' })];
const quotaOf = (name: string, spec: QuotaGrantSpec): Quota => ({
  apiVersion: API_VERSION,
  kind: 'Quota',
  metadata: { name, generation: 1, resourceVersion: '20', uid: `uid-${name}` },
  spec,
});
const ready = { type: 'Ready', status: 'True' as const, reason: 'Compiled', message: 'compiled into the governor' };

/** Compiles the quota with an SKU and three tenants, reconciles it, and returns what was written. */
async function reconcileOne(quota: Quota) {
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [starter, ...TENANTS, quota] }, T0);
  const cluster = fakeCluster([quota]);
  const ctx: ReconcileContext = {
    snapshot: () => compiler.snapshot,
    invalid: () => undefined,
    writer: new StatusWriter(cluster.api),
    events: new EventRecorder({ api: cluster.api, component: 'tai-operator', instance: 'test', now: () => T0, log: () => undefined }),
    now: () => T0,
  };
  await new QuotaReconciler(cluster.informer, ctx).reconcile(quota.metadata.name);
  const status = cluster.cache.get(quota.metadata.name)?.status as { conditions: Condition[]; active?: boolean; tenants?: number };
  return { calls: cluster.calls, status, ready: status.conditions.find((c) => c.type === 'Ready') };
}

test('quotaStatus carries active and tenants from the compiled status', (t) => {
  const s = quotaStatus(quotaOf('q', { tenant: 'acme', metric: 'builds', limit: 1 }), { ready, compiled: { ...ready, ready: true, generation: 1, active: false, tenants: 1 } }, T0);
  t.like(s, { observedGeneration: 1, active: false, tenants: 1 });
  t.like(s.conditions[0], { type: 'Ready', status: 'True', lastTransitionTime: '2026-03-10T12:00:00Z' });
});

test('quotaStatus leaves active and tenants out when nothing is compiled', (t) => {
  const s = quotaStatus(quotaOf('q', { tenant: 'acme', metric: 'builds', limit: 1 }), { ready, compiled: undefined }, T0);
  t.false('active' in s);
  t.false('tenants' in s);
});

test('a grant to one existing tenant is Ready, active and reaches one tenant', async (t) => {
  const { calls, status, ready } = await reconcileOne(quotaOf('acme-builds', { tenant: 'acme', metric: 'builds', limit: 50 }));
  t.deepEqual(calls.map((c) => `${c.method} ${c.path}`), ['PATCH /apis/tai.dev/v1alpha1/quotas/acme-builds/status']);
  t.like(ready, { status: 'True', reason: 'Compiled' });
  t.like(status, { observedGeneration: 1, active: true, tenants: 1 });
});

test('a grant by label selector counts the tenants it selects', async (t) => {
  const { status } = await reconcileOne(quotaOf('trial-builds', { tenantSelector: { matchLabels: { 'tai.dev/trial': 'true' } }, metric: 'builds', mode: 'replace', limit: 1000 }));
  t.is(status.tenants, 2);
});

test('a grant that has not started yet is not active', async (t) => {
  const { status, ready } = await reconcileOne(quotaOf('black-friday', { tenant: 'acme', metric: 'builds', limit: 500, validFrom: '2026-11-27T00:00:00Z', validUntil: '2026-12-01T00:00:00Z' }));
  t.is(ready?.status, 'True');
  t.false(status.active);
});

test('a grant to an unknown tenant is Ready False TenantNotFound with a Warning Event', async (t) => {
  const { calls, status, ready } = await reconcileOne(quotaOf('ghost-builds', { tenant: 'ghost', metric: 'builds', limit: 50 }));
  t.like(ready, { status: 'False', reason: 'TenantNotFound', message: 'spec.tenant names tenant "ghost", which does not exist' });
  t.like(status, { active: true, tenants: 0 });
  t.is(calls[1]?.path, '/api/v1/namespaces/default/events');
  t.like(calls[1]?.body, { type: 'Warning', reason: 'TenantNotFound', involvedObject: { kind: 'Quota', name: 'ghost-builds', uid: 'uid-ghost-builds' } });
});
