// Reconcile receipts: one per change of a tenant's effective entitlements, and none lost to an append that threw.
import test from 'ava';
import { PolicyCompiler } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { LogUnavailableError, type ReceiptLog } from '../receipts/store/index.ts';
import { PolicyReceipts } from './policy-receipts.ts';

/** A log that keeps what is appended, and throws on the appends a test says (a full disk, a failed write). */
function flakyLog(failAt: Set<number>, failure: () => Error = () => new Error('EIO: write failed')) {
  const appended: Array<{ tenant: string; patch: unknown }> = [];
  let calls = 0;
  const log = {
    append(_kind: string, body: { resource: string; patch: unknown }) {
      if (failAt.has(++calls)) throw failure();
      appended.push({ tenant: body.resource.replace('Tenant/', ''), patch: body.patch });
    },
  };
  return { log: log as unknown as ReceiptLog, appended };
}

test('a change whose append threw is recorded with the next snapshot, with the patch from what was recorded', (t) => {
  const compiler = new PolicyCompiler();
  const { log, appended } = flakyLog(new Set([2]));
  const receipts = new PolicyReceipts(log, new Map());
  const first = compiler.apply({ upsert: [skuOf('plan', { features: { sso: false } }), tenantOf('a', { sku: 'plan' }), tenantOf('b', { sku: 'plan' })] }, 0);
  t.throws(() => receipts.record(first, () => undefined), { message: /EIO/ });
  t.deepEqual(appended.map((a) => a.tenant), ['a'], 'one recorded before the failure');

  // The next snapshot is about another tenant only; b's change, never recorded, goes with it.
  const second = compiler.apply({ upsert: [tenantOf('c', { sku: 'plan' })] }, 1);
  t.false(second.changed.has('b'));
  t.is(receipts.record(second, () => undefined), 2);
  t.deepEqual(appended.map((a) => a.tenant).sort(), ['a', 'b', 'c']);
  t.like(appended.find((x) => x.tenant === 'b')!.patch, { features: { sso: false } }, 'b’s patch starts from nothing recorded: its whole state');

  // Nothing is left pending: the next change records only its own tenant.
  const third = compiler.apply({ upsert: [tenantOf('d', { sku: 'plan' })] }, 2);
  t.is(receipts.record(third, () => undefined), 1);
  t.is(appended.at(-1)!.tenant, 'd');
});

// A log outage (ADR 10): the snapshot is applied (the feed must not fail), its changes wait, and the call the server
// makes when the log writes again records them, before any decision (refused meanwhile) can use the new policy.
test('while the log cannot write, changes wait without an error and are recorded by the next call', (t) => {
  const compiler = new PolicyCompiler();
  const { log, appended } = flakyLog(new Set([1]), () => new LogUnavailableError('ENOSPC', 'refused'));
  const receipts = new PolicyReceipts(log, new Map());
  const snapshot = compiler.apply({ upsert: [skuOf('plan', { features: { sso: false } }), tenantOf('a', { sku: 'plan' }), tenantOf('b', { sku: 'plan' })] }, 0);
  t.is(receipts.record(snapshot, () => undefined), 0);
  t.deepEqual(appended, [], 'nothing recorded during the outage');
  t.is(receipts.record(compiler.snapshot, () => undefined), 2, 'both recorded once the log writes again');
  t.deepEqual(appended.map((a) => a.tenant).sort(), ['a', 'b']);
});

test('bodies prepared ahead in slices give the same receipts as recording alone, and stale ones are not used', async (t) => {
  const change = (limit: number) => ({ upsert: [skuOf('plan', { features: { sso: false }, quotas: { calls: { limit } } }), tenantOf('a', { sku: 'plan' }), tenantOf('b', { sku: 'plan' })] });
  const run = async (prepareAhead: boolean) => {
    const compiler = new PolicyCompiler();
    const { log, appended } = flakyLog(new Set());
    const receipts = new PolicyReceipts(log, new Map());
    compiler.onSnapshot((s) => receipts.record(s, () => undefined));
    if (prepareAhead) compiler.onCompiled((compiled, pause) => receipts.prepare(compiled, () => undefined, pause));
    let pauses = 0;
    await compiler.applyInSlices(change(5), 0, async () => void pauses++);
    await compiler.applyInSlices(change(7), 1, async () => void pauses++);
    return appended;
  };
  t.deepEqual(await run(true), await run(false));
  t.is((await run(true)).length, 4);

  // Prepared against a recorded state that moved on before the snapshot came: recomputed from the new one.
  const compiler = new PolicyCompiler();
  const { log, appended } = flakyLog(new Set());
  const receipts = new PolicyReceipts(log, new Map());
  const first = compiler.apply(change(5), 0);
  const second = compiler.apply(change(7), 1);
  // Made while nothing was recorded: a patch of the whole document, which is stale once `first` is recorded.
  await receipts.prepare(new Map([['a', second.tenants.get('a')!]]), () => undefined, async () => undefined);
  receipts.record(first, () => undefined);
  receipts.record(second, () => undefined);
  t.deepEqual(appended.filter((a) => a.tenant === 'a').map((a) => a.patch), [
    { sku: 'plan', suspended: false, features: { sso: false }, quotas: { calls: { limit: 5, kind: 'counter', window: 'month', reset: 'calendar', enforcement: 'hard', alertAt: [70, 90, 100] } }, rates: {}, resources: {} },
    { quotas: { calls: { limit: 7 } } },
  ]);
});

// docs/receipts.md §3: generation 0 means the resource is gone. Embedded mode's Tenants (the policy folder's files)
// have no metadata.generation: their receipts record the policy generation that made the change instead.
test('the generation recorded: metadata.generation, else the policy generation; 0 once the tenant is gone', async (t) => {
  const bodies: Array<{ resource: string; generation: number }> = [];
  const log = { append: (_kind: string, body: { resource: string; generation: number }) => void bodies.push(body) } as unknown as ReceiptLog;
  const compiler = new PolicyCompiler();
  const receipts = new PolicyReceipts(log, new Map());
  const plan = skuOf('plan', { features: { sso: false } });
  const folder = { ...tenantOf('folder', { sku: 'plan' }), metadata: { name: 'folder' } };
  const cluster = { ...tenantOf('cluster', { sku: 'plan' }), metadata: { name: 'cluster', generation: 7 } };
  const resources = new Map([folder, cluster].map((r) => [r.metadata.name, r]));
  compiler.onSnapshot((s) => receipts.record(s, (n) => resources.get(n)));
  compiler.onCompiled((compiled, pause) => receipts.prepare(compiled, (n) => resources.get(n), pause));
  await compiler.applyInSlices({ upsert: [plan, folder, cluster] }, 0, async () => undefined); // prepared ahead
  const first = compiler.snapshot.generation;
  t.true(first > 0);
  t.deepEqual(bodies.map((b) => [b.resource, b.generation]).sort(), [['Tenant/cluster', 7], ['Tenant/folder', first]]);
  resources.delete('folder');
  compiler.apply({ upsert: [skuOf('plan', { features: { sso: true } })], remove: ['Tenant/folder'] }, 1); // recorded alone
  t.deepEqual(bodies.slice(2).map((b) => [b.resource, b.generation]).sort(), [['Tenant/cluster', 7], ['Tenant/folder', 0]]);
  const late = { ...tenantOf('late', { sku: 'plan' }), metadata: { name: 'late' } };
  resources.set('late', late);
  const snapshot = compiler.apply({ upsert: [late] }, 2);
  t.deepEqual(bodies.at(-1), { ...bodies.at(-1)!, resource: 'Tenant/late', generation: snapshot.generation });
});
