import test from 'ava';
import { PolicyCompiler } from './policy-compiler.ts';
import { quotaOf, skuOf, tenantOf } from './policy-fixtures.test-helper.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');

const ladder = [
  skuOf('starter', { features: { sso: false, projects: 3, support: 'community' }, quotas: { 'api-calls': { limit: 1000, window: 'day' } }, rates: { requests: { perSecond: 10 } }, resources: { namespaces: 2 } }),
  skuOf('growth', { extends: 'starter', features: { sso: true, projects: 50 }, quotas: { 'api-calls': { limit: 1_000_000 } } }),
  skuOf('extra', { features: { sso: false, projects: 10, priority: true }, quotas: { 'api-calls': { limit: 500_000 } }, rates: { requests: { perSecond: 5, burst: 5 } }, resources: { namespaces: 1 } }),
];

test('effective limit walks every layer in order, with provenance', (t) => {
  const c = new PolicyCompiler();
  const snap = c.apply(
    {
      upsert: [
        ...ladder,
        tenantOf('acme', { sku: 'growth', addOns: [{ sku: 'extra', quantity: 2 }], overrides: { quotas: { 'api-calls': { limit: 2_000_000 } } } }),
        quotaOf('b-add', { tenant: 'acme', metric: 'api-calls', limit: 5_000_000 }),
        quotaOf('a-add', { tenant: 'acme', metric: 'api-calls', limit: 1 }),
        quotaOf('z-replace', { tenant: 'acme', metric: 'api-calls', mode: 'replace', limit: 3_000_000 }),
      ],
    },
    NOW,
  );
  const acme = snap.tenants.get('acme');
  t.truthy(acme);
  const calls = acme!.quotas['api-calls']!;
  // growth 1e6, +2×500k add-on = 2e6, overrides set 2e6, replace 3e6, then adds in name order: +1, +5e6.
  t.is(calls.limit, 8_000_001);
  t.is(calls.window, 'day', 'window inherited from starter through the chain');
  t.deepEqual(
    calls.trace.map((s) => [s.source, s.op]),
    [['SKU/starter', 'set'], ['SKU/growth', 'set'], ['SKU/extra×2', 'add'], ['Tenant/acme overrides', 'set'], ['Quota/z-replace', 'set'], ['Quota/a-add', 'add'], ['Quota/b-add', 'add']],
  );
  t.is(acme!.features.sso!.value, true, 'booleans OR: growth true || extra false');
  t.is(acme!.features.projects!.value, 70, 'numbers add × quantity: 50 + 2×10');
  t.is(acme!.features.priority!.value, true, 'an add-on brings new features');
  t.deepEqual([acme!.rates.requests!.perSecond, acme!.rates.requests!.burst], [20, 20]);
  t.is(acme!.resources.namespaces!.value, 4);
});

test('overrides are a merge patch: null removes, objects merge, others replace', (t) => {
  const c = new PolicyCompiler();
  const snap = c.apply({ upsert: [...ladder, tenantOf('a', { sku: 'growth', overrides: { features: { support: null, sso: false }, quotas: { 'api-calls': { enforcement: 'soft' } } } })] }, NOW);
  const a = snap.tenants.get('a')!;
  t.false('support' in a.features);
  t.is(a.features.sso!.value, false);
  t.is(a.features.sso!.trace.at(-1)!.source, 'Tenant/a overrides');
  t.is(a.quotas['api-calls']!.enforcement, 'soft');
  t.is(a.quotas['api-calls']!.limit, 1_000_000, 'fields the patch leaves alone stay');
});

test('a tenant with nothing of its own shares the compiled SKU objects', (t) => {
  const c = new PolicyCompiler();
  const snap = c.apply({ upsert: [...ladder, tenantOf('a', { sku: 'growth' }), tenantOf('b', { sku: 'growth' })] }, NOW);
  t.is(snap.tenants.get('a')!.quotas, snap.tenants.get('b')!.quotas);
  t.is(snap.tenants.get('a')!.digest, snap.tenants.get('b')!.digest);
});

test('missing SKU, missing parent and cycles are Ready=False with reason and field', (t) => {
  const c = new PolicyCompiler();
  const snap = c.apply(
    {
      upsert: [
        ...ladder,
        skuOf('orphan', { extends: 'nowhere' }),
        skuOf('a', { extends: 'b' }),
        skuOf('b', { extends: 'a' }),
        tenantOf('lost', { sku: 'gold' }),
        tenantOf('loop', { sku: 'a' }),
        tenantOf('addon', { sku: 'growth', addOns: [{ sku: 'nope' }] }),
      ],
    },
    NOW,
  );
  t.like(snap.statuses.get('SKU/orphan'), { ready: false, reason: 'SKUNotFound', path: 'spec.extends' });
  t.like(snap.statuses.get('SKU/a'), { ready: false, reason: 'InheritanceCycle' });
  t.regex(snap.statuses.get('SKU/a')!.message, /a → b → a|b → a → b/);
  t.like(snap.statuses.get('Tenant/lost'), { ready: false, reason: 'SKUNotFound', path: 'spec.sku' });
  t.like(snap.statuses.get('Tenant/loop'), { ready: false, reason: 'InheritanceCycle' });
  t.like(snap.statuses.get('Tenant/addon'), { ready: false, reason: 'SKUNotFound', path: 'spec.addOns.0.sku' });
  t.like(snap.statuses.get('SKU/growth'), { ready: true, reason: 'Compiled' });
  t.false(snap.tenants.has('lost'));
});

test('a broken change keeps the last good compiled tenant and says why', (t) => {
  const c = new PolicyCompiler();
  c.apply({ upsert: [...ladder, tenantOf('acme', { sku: 'growth' })] }, NOW);
  const good = c.snapshot.tenants.get('acme');
  const snap = c.apply({ upsert: [tenantOf('acme', { sku: 'platinum' })] }, NOW);
  t.is(snap.tenants.get('acme'), good);
  t.like(snap.statuses.get('Tenant/acme'), { ready: false, reason: 'SKUNotFound' });
  const fixed = c.apply({ upsert: [skuOf('platinum', { quotas: { x: { limit: 1 } } })] }, NOW);
  t.like(fixed.statuses.get('Tenant/acme'), { ready: true });
  t.deepEqual(Object.keys(fixed.tenants.get('acme')!.quotas), ['x'], 'adding the missing SKU recompiles its dependents');
});

test('prototype keys in overrides are refused with their path', (t) => {
  const c = new PolicyCompiler();
  const overrides = JSON.parse('{"features":{"__proto__":{"polluted":true}}}') as Record<string, unknown>;
  const snap = c.apply({ upsert: [...ladder, tenantOf('evil', { sku: 'growth', overrides })] }, NOW);
  t.like(snap.statuses.get('Tenant/evil'), { ready: false, reason: 'InvalidOverrides', path: 'spec.overrides.features.__proto__' });
  t.is(({} as Record<string, unknown>).polluted, undefined);
});

test('overrides that break the entitlements are refused with the field path', (t) => {
  const c = new PolicyCompiler();
  const snap = c.apply({ upsert: [...ladder, tenantOf('t', { sku: 'growth', overrides: { quotas: { 'api-calls': { limit: -5 } } } })] }, NOW);
  t.like(snap.statuses.get('Tenant/t'), { ready: false, reason: 'InvalidOverrides', path: 'spec.overrides.quotas.api-calls.limit' });
});

test('a quota for an unknown metric or tenant is not ready and changes nothing', (t) => {
  const c = new PolicyCompiler();
  const snap = c.apply({ upsert: [...ladder, tenantOf('acme', { sku: 'growth' }), quotaOf('q', { tenant: 'acme', metric: 'gpu-hours', limit: 5 }), quotaOf('ghost', { tenant: 'nobody', metric: 'api-calls', limit: 5 })] }, NOW);
  t.like(snap.statuses.get('Quota/q'), { ready: false, reason: 'UnknownMetric', path: 'spec.metric' });
  t.like(snap.statuses.get('Quota/ghost'), { ready: false, reason: 'TenantNotFound' });
  t.is(snap.tenants.get('acme')!.quotas['api-calls']!.limit, 1_000_000);
});

test('time-boxed quotas apply only inside their window, and refresh swaps them in and out', (t) => {
  const c = new PolicyCompiler();
  const bf = quotaOf('bf', { tenant: 'acme', metric: 'api-calls', limit: 5, validFrom: '2026-11-27T00:00:00Z', validUntil: '2026-12-01T00:00:00Z' });
  const before = c.apply({ upsert: [...ladder, tenantOf('acme', { sku: 'growth' }), bf] }, Date.parse('2026-11-26T23:59:59.999Z'));
  t.is(before.tenants.get('acme')!.quotas['api-calls']!.limit, 1_000_000);
  t.is(before.expiresAt, Date.parse('2026-11-27T00:00:00Z'));
  t.is(c.refresh(Date.parse('2026-11-27T00:00:00Z')).tenants.get('acme')!.quotas['api-calls']!.limit, 1_000_005);
  t.like(c.snapshot.statuses.get('Quota/bf'), { active: true, tenants: 1 });
  t.is(c.refresh(Date.parse('2026-12-01T00:00:00Z')).tenants.get('acme')!.quotas['api-calls']!.limit, 1_000_000);
  t.like(c.snapshot.statuses.get('Quota/bf'), { active: false });
});

test('a change applied after a boundary passed also applies the boundary, and listeners hear every snapshot', (t) => {
  const c = new PolicyCompiler();
  const heard: Array<{ generation: number; changed: string[] }> = [];
  c.onSnapshot((s) => heard.push({ generation: s.generation, changed: [...s.changed].sort() }));
  const bf = quotaOf('bf', { tenant: 'acme', metric: 'api-calls', limit: 5, validUntil: '2026-12-01T00:00:00Z' });
  c.apply({ upsert: [...ladder, tenantOf('acme', { sku: 'growth' }), tenantOf('other', { sku: 'starter' }), bf] }, Date.parse('2026-11-30T00:00:00Z'));
  t.is(c.snapshot.tenants.get('acme')!.quotas['api-calls']!.limit, 1_000_005);
  // No decision and no timer looked at the boundary; an unrelated change comes after it.
  const next = c.apply({ upsert: [tenantOf('other', { sku: 'growth' })] }, Date.parse('2026-12-02T00:00:00Z'));
  t.is(next.tenants.get('acme')!.quotas['api-calls']!.limit, 1_000_000, 'the grant ended');
  t.deepEqual([...next.changed].sort(), ['acme', 'other']);
  t.like(next.statuses.get('Quota/bf'), { active: false });
  t.is(next.expiresAt, undefined);
  c.refresh(Date.parse('2026-12-03T00:00:00Z'));
  t.deepEqual(heard, [
    { generation: 1, changed: ['acme', 'other'] },
    { generation: 2, changed: ['acme', 'other'] },
  ], 'a refresh with nothing to do makes no snapshot');
});

test('a listener that throws does not keep the others from hearing the snapshot', (t) => {
  const c = new PolicyCompiler();
  const heard: number[] = [];
  c.onSnapshot(() => {
    throw new Error('EIO: receipt log');
  });
  const off = c.onSnapshot((s) => heard.push(s.generation));
  t.throws(() => c.apply({ upsert: ladder }, NOW), { message: /EIO/ });
  t.deepEqual(heard, [1]);
  t.is(c.snapshot.generation, 1, 'the snapshot is current all the same');
  off();
  t.throws(() => c.apply({ upsert: [tenantOf('a', { sku: 'growth' })] }, NOW));
  t.deepEqual(heard, [1], 'unsubscribed');
});

test('changing: decisions keep the current snapshot until the last step, which swaps the new one in at once', (t) => {
  const c = new PolicyCompiler();
  const bf = quotaOf('bf', { tenant: 't-0', metric: 'api-calls', limit: 5, validUntil: '2026-12-01T00:00:00Z' });
  const tenants = Array.from({ length: 1000 }, (_, i) => tenantOf(`t-${i}`, { sku: 'starter' }));
  const before = c.apply({ upsert: [...ladder, ...tenants, bf] }, Date.parse('2026-11-30T00:00:00Z'));
  const heard: number[] = [];
  c.onSnapshot((s) => heard.push(s.changed.size));
  const prepared: number[] = [];
  c.onCompiled(function* (next) {
    prepared.push(next.generation);
    t.is(c.snapshot, before, 'a preparer runs before the swap');
    yield;
  });
  // Every tenant moves to growth; meanwhile bf's validUntil passes.
  const steps = c.changing({ upsert: tenants.map((x) => tenantOf(x.metadata.name, { sku: 'growth' })) }, Date.parse('2026-12-02T00:00:00Z'));
  let taken = 0;
  for (let r = steps.next(); !r.done; r = steps.next()) {
    taken++;
    if (taken % 97 !== 1) continue;
    t.true(c.applying);
    t.is(c.snapshot, before, 'decisions read the last snapshot');
    t.is(c.refresh(Date.parse('2026-12-02T00:00:00Z')), before, 'a refresh waits for the change being applied');
    t.is(c.snapshot.tenants.get('t-999')!.quotas['api-calls']!.limit, 1000);
    t.throws(() => c.apply({ upsert: [tenantOf('x', { sku: 'growth' })] }, 0), { message: /being applied in slices/ });
    t.throws(() => c.changing({ upsert: [] }, 0), { message: /being applied in slices/ });
  }
  t.true(taken > 2000, `a step per resource, tenant and status at least (${taken})`);
  const after = c.snapshot;
  t.false(c.applying);
  t.is(after.generation, before.generation + 1, 'one new snapshot');
  t.deepEqual(prepared, [after.generation]);
  t.deepEqual(heard, [1000]);
  t.is(after.tenants.get('t-999')!.quotas['api-calls']!.limit, 1_000_000);
  t.is(after.tenants.get('t-0')!.quotas['api-calls']!.limit, 1_000_000, 'the boundary passed is applied with it');
  t.like(after.statuses.get('Quota/bf'), { active: false });
});

test('selector grants follow tenant labels', (t) => {
  const c = new PolicyCompiler();
  const q = quotaOf('trial', { tenantSelector: { matchLabels: { trial: 'true' } }, metric: 'api-calls', mode: 'replace', limit: 7 });
  c.apply({ upsert: [...ladder, tenantOf('a', { sku: 'growth' }, { trial: 'true' }), tenantOf('b', { sku: 'growth' }), q] }, NOW);
  t.is(c.snapshot.tenants.get('a')!.quotas['api-calls']!.limit, 7);
  t.is(c.snapshot.tenants.get('b')!.quotas['api-calls']!.limit, 1_000_000);
  c.apply({ upsert: [tenantOf('b', { sku: 'growth' }, { trial: 'true' })] }, NOW);
  t.is(c.snapshot.tenants.get('b')!.quotas['api-calls']!.limit, 7);
});

test('incremental: a change recompiles only its dependents and swaps a new snapshot', (t) => {
  const c = new PolicyCompiler();
  const first = c.apply({ upsert: [...ladder, skuOf('other', { quotas: { x: { limit: 1 } } }), tenantOf('g', { sku: 'growth' }), tenantOf('o', { sku: 'other' })] }, NOW);
  const second = c.apply({ upsert: [skuOf('starter', { ...ladder[0]!.spec, features: { sso: false, projects: 4 } })] }, NOW);
  t.not(first, second);
  t.is(second.generation, first.generation + 1);
  t.is(second.tenants.get('o'), first.tenants.get('o'), 'a tenant on an unrelated SKU is untouched');
  t.not(second.tenants.get('g'), first.tenants.get('g'), 'a tenant whose chain includes the SKU is recompiled');
  t.is(first.tenants.get('g')!.features.support!.value, 'community', 'the old snapshot is never mutated');
  t.false('support' in second.tenants.get('g')!.features);
  c.apply({ remove: ['Tenant/o'] }, NOW);
  t.false(c.snapshot.tenants.has('o'));
});
