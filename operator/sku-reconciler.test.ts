import test from 'ava';
import { API_VERSION, type Condition, type PolicyError, type Sku, type SkuSpec } from '../crds/index.ts';
import { PolicyCompiler } from '../governor/index.ts';
import { EventRecorder } from './event-recorder.ts';
import { fakeCluster } from './fake-cluster.test-helper.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { SkuReconciler, skuStatus } from './sku-reconciler.ts';
import { StatusWriter } from './status-writer.ts';

const T0 = Date.parse('2026-03-10T12:00:00Z');
const skuOf = (name: string, spec: SkuSpec, generation = 1): Sku => ({
  apiVersion: API_VERSION,
  kind: 'SKU',
  metadata: { name, generation, resourceVersion: '10', uid: `uid-${name}` },
  spec,
});
const ready = { type: 'Ready', status: 'True' as const, reason: 'Compiled', message: 'compiled into the governor' };

function setup(skus: Sku[], invalid: Record<string, PolicyError[]> = {}) {
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: skus }, T0);
  const cluster = fakeCluster(skus);
  const ctx: ReconcileContext = {
    snapshot: () => compiler.snapshot,
    invalid: (key) => invalid[key],
    writer: new StatusWriter(cluster.api),
    events: new EventRecorder({ api: cluster.api, component: 'tai-operator', instance: 'test', now: () => T0, log: () => undefined }),
    now: () => T0,
  };
  const ready = (name: string) => (cluster.cache.get(name)?.status as { conditions: Condition[] } | undefined)?.conditions.find((c) => c.type === 'Ready');
  return { ...cluster, compiler, reconciler: new SkuReconciler(cluster.informer, ctx), ready };
}

test('skuStatus stamps the Ready condition with the generation and a whole-second time', (t) => {
  t.deepEqual(skuStatus(skuOf('starter', {}, 4), ready, T0 + 999), {
    observedGeneration: 4,
    conditions: [{ ...ready, observedGeneration: 4, lastTransitionTime: '2026-03-10T12:00:00Z' }],
  });
});

test('skuStatus keeps lastTransitionTime while Ready keeps its status', (t) => {
  const old = { ...skuOf('starter', {}, 2), status: { conditions: [{ ...ready, observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }] } };
  const [condition] = skuStatus(old, { ...ready, message: 'again' }, T0).conditions;
  t.like(condition, { message: 'again', observedGeneration: 2, lastTransitionTime: '2026-01-01T00:00:00Z' });
});

test('a valid SKU gets Ready True with one status write and no Event', async (t) => {
  const s = setup([skuOf('starter', { features: { sso: false } })]);
  await s.reconciler.reconcile('starter');
  t.deepEqual(s.calls.map((c) => `${c.method} ${c.path}`), ['PATCH /apis/tai.dev/v1alpha1/skus/starter/status']);
  t.like(s.ready('starter'), { status: 'True', reason: 'Compiled', observedGeneration: 1 });
});

test('SKUs extending each other get Ready False InheritanceCycle and a Warning Event', async (t) => {
  const s = setup([skuOf('a', { extends: 'b' }), skuOf('b', { extends: 'a' })]);
  await s.reconciler.reconcile('a');
  t.like(s.ready('a'), { status: 'False', reason: 'InheritanceCycle' });
  t.regex(s.ready('a')!.message, /^spec\.extends: .*inheritance cycle/);
  t.is(s.calls[1]?.path, '/api/v1/namespaces/default/events');
  t.like(s.calls[1]?.body, { type: 'Warning', reason: 'InheritanceCycle', involvedObject: { kind: 'SKU', name: 'a', uid: 'uid-a' } });
});

test('an SKU whose cycle is broken recovers with a Normal Event', async (t) => {
  const s = setup([skuOf('a', { extends: 'b' }), skuOf('b', { extends: 'a' })]);
  await s.reconciler.reconcile('a');
  s.compiler.apply({ upsert: [skuOf('b', {}, 2)] }, T0);
  await s.reconciler.reconcile('a');
  t.like(s.ready('a'), { status: 'True', reason: 'Compiled' });
  t.like(s.calls.at(-1)?.body, { type: 'Normal', reason: 'Compiled', message: 'recovered: compiled into the governor' });
});

test('schema errors for the SKU turn Ready False InvalidSpec even though an older version compiled', async (t) => {
  const s = setup([skuOf('starter', {})], { 'SKU/starter': [{ file: 'cluster', path: 'spec.quotas.x.limit', message: 'must be a whole number' }] });
  await s.reconciler.reconcile('starter');
  t.like(s.ready('starter'), { status: 'False', reason: 'InvalidSpec', message: 'spec.quotas.x.limit: must be a whole number — the last valid version keeps serving' });
});

test('an SKU the compiler has not seen at this generation is not written', async (t) => {
  const s = setup([skuOf('starter', {})]);
  s.cache.get('starter')!.metadata.generation = 2;
  await s.reconciler.reconcile('starter');
  await s.reconciler.reconcile('missing');
  t.deepEqual(s.calls, []);
});
