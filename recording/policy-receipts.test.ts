// Reconcile receipts: one per change of a tenant's effective entitlements, and none lost to an append that threw.
import test from 'ava';
import { PolicyCompiler, type PolicyChange } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { LogUnavailableError, type ReceiptLog } from '../receipts/store/index.ts';
import { PolicyReceipts } from './policy-receipts.ts';
import { applyInSlices } from './run-in-slices.ts';

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

/**
 * Applies `changes` one after the other, recording with `record` alone or, with `ahead`, in slices ahead of the
 * switch too. With `failFrom`, the log fails (`failure`) from the given append of the given change to its end.
 */
async function recordedBy(o: { ahead: boolean; failFrom?: { change: number; append: number }; failure?: () => Error }, changes: readonly PolicyChange[]) {
  const compiler = new PolicyCompiler();
  const appended: Array<{ tenant: string; patch: unknown }> = [];
  let at = { change: -1, append: 0 };
  const append = (_kind: string, body: { resource: string; patch: unknown }): void => {
    if (o.failFrom?.change === at.change && ++at.append >= o.failFrom.append) throw o.failure!();
    appended.push({ tenant: body.resource.replace('Tenant/', ''), patch: body.patch });
  };
  const receipts = new PolicyReceipts({ append } as unknown as ReceiptLog, new Map());
  const errors: string[] = [];
  compiler.onSnapshot((s) => receipts.record(s, () => undefined));
  if (o.ahead) compiler.onCompiled((next) => receipts.recordAhead(next, () => undefined));
  for (const [i, change] of changes.entries()) {
    at = { change: i, append: 0 };
    try {
      // A budget of 0 ms pauses after every step: the most slices there can be.
      await (o.ahead ? applyInSlices(compiler, change, i, { budgetMs: 0 }) : Promise.resolve(compiler.apply(change, i)));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return { appended, errors, generation: compiler.snapshot.generation };
}

const planChange = (limit: number, tenants = 3): PolicyChange => ({
  upsert: [skuOf('plan', { features: { sso: false }, quotas: { calls: { limit } } }), ...Array.from({ length: tenants }, (_, i) => tenantOf(`t${i}`, { sku: 'plan' }))],
});

test('receipts appended ahead in slices are those recording alone appends, in the same order', async (t) => {
  const changes = [planChange(5), planChange(7), { upsert: [tenantOf('t1', { sku: 'plan', suspended: true })], remove: ['Tenant/t2'] }];
  const alone = await recordedBy({ ahead: false }, changes);
  t.deepEqual(await recordedBy({ ahead: true }, changes), alone);
  t.is(alone.appended.length, 8);
});

test('an append that fails ahead of the switch: the snapshot is made current all the same, and the rest is recorded as without it', async (t) => {
  for (const failure of [() => new Error('EIO: write failed'), () => new LogUnavailableError('ENOSPC', 'refused')]) {
    const changes = [planChange(5), planChange(7), planChange(9)];
    const failFrom = { change: 1, append: 2 };
    const alone = await recordedBy({ ahead: false, failFrom, failure }, changes);
    const ahead = await recordedBy({ ahead: true, failFrom, failure }, changes);
    t.deepEqual(ahead, alone);
    t.is(ahead.generation, 3, 'every change made current');
    t.is(ahead.appended.length, 7, 'what failed is recorded with the next change');
  }
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
  compiler.onCompiled((next) => receipts.recordAhead(next, (n) => resources.get(n)));
  await applyInSlices(compiler, { upsert: [plan, folder, cluster] }, 0, { budgetMs: 0 }); // recorded ahead
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
