// Issue 15, defect 6, cluster mode: an object change that would give a tenant entitlements too large to record
// is held back by the compile (last good state kept), and the Tenant's Ready condition says why, with the tenant,
// the receipt size and the limit (the reconciler turns a Ready=False into a Warning Event too).
import test from 'ava';
import type { TaiResource, Tenant } from '../crds/index.ts';
import { PolicyCompiler } from '../governor/index.ts';
import { oversizePolicy } from '../governor/policy-fixtures.test-helper.ts';
import { checkEntitlementsReceipt } from '../recording/reconcile-size.ts';
import { ClusterPolicy } from './cluster-policy.ts';
import type { KubeApi, KubeObject, WatchEvent } from '../kube/index.ts';
import { TAI_PATHS } from './paths.ts';
import { readyCondition } from './ready.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const asObject = (r: TaiResource, rv: string): KubeObject => ({ ...r, metadata: { ...r.metadata, resourceVersion: rv } }) as unknown as KubeObject;

/** An API that lists the given objects by path and hands each watch's event callback to the test, by path. */
function scriptedApi(byPath: Record<string, KubeObject[]>): KubeApi & { watches: Map<string, (e: WatchEvent) => void> } {
  const watches = new Map<string, (e: WatchEvent) => void>();
  return {
    watches,
    async request<T>(_method: string, path: string): Promise<T> {
      return { metadata: { resourceVersion: '1' }, items: byPath[path] ?? [] } as T;
    },
    async watch(path: string, _query: Record<string, unknown>, onEvent: (e: WatchEvent) => void) {
      watches.set(path, onEvent);
      return { abort: () => undefined };
    },
  };
}

test('a Tenant changed to take the five big add-ons keeps its last good entitlements and is Ready=False ReceiptTooLarge', async (t) => {
  const [plan, ...rest] = oversizePolicy();
  const tenant = rest.pop() as Tenant;
  const addOns = rest;
  const api = scriptedApi({
    [TAI_PATHS.SKU]: [plan, ...addOns].map((s) => asObject(s, '1')),
    [TAI_PATHS.Tenant]: [asObject({ ...tenant, spec: { sku: 'plan' } }, '1')],
  });
  const compiler = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
  const policy = new ClusterPolicy({ api, compiler, clock: { now: () => NOW }, log: () => undefined, source: 'test' });
  t.teardown(() => policy.stop());
  const applied = new Promise<void>((resolve) => policy.onApplied(() => resolve()));
  await policy.start();
  const served = compiler.snapshot.tenants.get('big');
  t.truthy(served);
  t.true(await eventuallyWatching(api));
  api.watches.get(TAI_PATHS.Tenant)!({ type: 'MODIFIED', object: asObject({ ...tenant, metadata: { ...tenant.metadata, generation: 2 } }, '2') });
  await applied;
  t.is(compiler.snapshot.tenants.get('big'), served, 'the last good entitlements keep serving');
  const condition = readyCondition({ generation: 2, compiled: compiler.snapshot.statuses.get('Tenant/big'), invalid: policy.invalid('Tenant/big') });
  t.like(condition, { status: 'False', reason: 'ReceiptTooLarge' });
  t.regex(condition!.message, /tenant big: its entitlements make a reconcile receipt of \d{7} bytes; at most 32767 are allowed \(half of a log entry's 65535 bytes/);
});

async function eventuallyWatching(api: { watches: Map<string, unknown> }): Promise<boolean> {
  for (let i = 0; i < 100 && !api.watches.has(TAI_PATHS.Tenant); i++) await new Promise((r) => setImmediate(r));
  return api.watches.has(TAI_PATHS.Tenant);
}
