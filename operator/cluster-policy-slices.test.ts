// Issue 19: an informer change that recompiles many tenants (an SKU they all use) is applied in slices: decisions
// meanwhile read the last snapshot, and a change that arrives meanwhile waits for it, then is applied after it.
import test from 'ava';
import type { TaiResource } from '../crds/index.ts';
import { PolicyCompiler, type PolicySnapshot } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import type { KubeApi, KubeObject, WatchEvent } from '../kube/index.ts';
import { ClusterPolicy, type PolicyApplied } from './cluster-policy.ts';
import { TAI_PATHS } from './paths.ts';

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

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const starter = (limit: number) => skuOf('starter', { quotas: { calls: { limit } } });
const other = skuOf('other', { quotas: { calls: { limit: 7 } } });
const limitOf = (s: PolicySnapshot, tenant: string): number | undefined => s.tenants.get(tenant)?.quotas.calls?.limit;

test('an SKU change many tenants use is applied in slices; a change arriving meanwhile is applied after it', async (t) => {
  const tenants = Array.from({ length: 2000 }, (_, i) => tenantOf(`t-${i}`, { sku: 'starter' }));
  const api = scriptedApi({ [TAI_PATHS.SKU]: [starter(1), other].map((s) => asObject(s, '1')), [TAI_PATHS.Tenant]: tenants.map((x) => asObject(x, '1')) });
  const compiler = new PolicyCompiler();
  let onTurn = (): void => undefined;
  // A budget of 0 ms pauses after every step; each turn, `onTurn` plays a caller (or the API server).
  const pause = async (): Promise<void> => {
    onTurn();
    await turn();
  };
  const policy = new ClusterPolicy({ api, compiler, clock: { now: () => 0 }, log: () => undefined, source: 'test', slices: { budgetMs: 0, pause } });
  t.teardown(() => policy.stop());
  const applied: PolicyApplied[] = [];
  policy.onApplied((a) => applied.push(a));
  await policy.start();
  for (let i = 0; i < 100 && !api.watches.has(TAI_PATHS.Tenant); i++) await turn();
  const before = compiler.snapshot;

  const seen: Array<number | undefined> = [];
  let turns = 0;
  onTurn = () => {
    seen.push(limitOf(compiler.snapshot, 't-1999'));
    // Halfway through, t-5 moves to another SKU: it waits for the change being applied.
    if (++turns === 1000) api.watches.get(TAI_PATHS.Tenant)!({ type: 'MODIFIED', object: asObject(tenantOf('t-5', { sku: 'other' }), '3') });
    if (turns > 1000 && applied.length === 0) t.false(policy.holds('Tenant/t-5'), 'not held before it is compiled');
  };
  api.watches.get(TAI_PATHS.SKU)!({ type: 'MODIFIED', object: asObject(starter(2), '2') });
  for (let i = 0; i < 100_000 && applied.length < 2; i++) await turn();

  t.is(applied.length, 2, 'two compiles, one after the other');
  t.deepEqual(applied[0]!.keys, ['SKU/starter']);
  t.deepEqual(applied[1]!.keys, ['Tenant/t-5']);
  t.is(applied[0]!.snapshot.generation, before.generation + 1);
  t.is(applied[1]!.snapshot.generation, before.generation + 2);
  const switched = seen.indexOf(2);
  t.true(switched > 2000, `${switched} turns answered by the last snapshot`);
  t.deepEqual([...new Set(seen.slice(0, switched))], [1], 'the old limit, whole, until the switch');
  t.is(limitOf(compiler.snapshot, 't-1999'), 2);
  t.is(limitOf(compiler.snapshot, 't-5'), 7);
  t.true(policy.holds('Tenant/t-5'));
});
