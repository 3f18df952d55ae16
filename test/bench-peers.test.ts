/**
 * The peers bench (bench/scenarios/peers.ts) compares TAI with OPA and Gubernator only if they are told the same
 * policy: the documents bench/peers/from-policy.ts generates from TAI's compiled tenants must carry exactly what
 * TAI's own decisions read. (That OPA's Rego over them answers as TAI does is checked live by the bench itself,
 * against a real `opa run --server`, before it loads anything.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { decideCheck, PolicyCompiler } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { compilePolicyFolder, gubernatorRequest, opaData } from '../bench/peers/from-policy.ts';

const NOW = Date.parse('2026-12-02T00:00:00Z');

function compiled() {
  const snapshot = new PolicyCompiler().apply(
    {
      upsert: [
        skuOf('plan', { features: { sso: true, seats: 0, region: '', beta: false }, rates: { requests: { perSecond: 50, burst: 80 } } }),
        tenantOf('open', { sku: 'plan', overrides: { features: { sso: false } } }),
        tenantOf('closed', { sku: 'plan', suspended: true }),
      ],
    },
    NOW,
  );
  return snapshot.tenants;
}

test("OPA's data holds, per tenant, what TAI's check reads: suspended, digest and every feature's value", (t) => {
  const tenants = compiled();
  const data = opaData(tenants);
  t.deepEqual(Object.keys(data.tenants).sort(), ['closed', 'open']);
  for (const [name, tenant] of tenants) {
    const doc = data.tenants[name]!;
    t.is(doc.suspended, tenant.suspended);
    t.is(doc.digest, tenant.digest);
    for (const feature of ['sso', 'seats', 'region', 'beta', 'absent', 'constructor']) {
      const decision = decideCheck({ ...tenant, suspended: false }, { tenant: name, feature });
      t.deepEqual(Object.hasOwn(doc.features, feature) ? doc.features[feature] : undefined, decision.value, `${name}/${feature}`);
    }
  }
  t.deepEqual(data.tenants.open!.features, { sso: false, seats: 0, region: '', beta: false });
});

test('the data survives JSON (OPA reads it from a file) unchanged', (t) => {
  const data = opaData(compiled());
  t.deepEqual(JSON.parse(JSON.stringify(data)), data);
});

test("Gubernator's request carries the tenant's compiled rate as a leaky bucket of limit per second, burst as capacity", (t) => {
  const tenants = compiled();
  t.deepEqual(gubernatorRequest(tenants, { tenant: 'open', name: 'requests', cost: 3 }), {
    requests: [{ name: 'requests', unique_key: 'open', hits: 3, limit: 50, duration: 1000, burst: 80, algorithm: 'LEAKY_BUCKET' }],
  });
  t.is(gubernatorRequest(tenants, { tenant: 'open', name: 'requests' }).requests[0]!.hits, 1);
});

test('a tenant or rate the policy lacks has no Gubernator request', (t) => {
  const tenants = compiled();
  t.throws(() => gubernatorRequest(tenants, { tenant: 'nobody', name: 'requests' }), { message: /no rate "requests" for tenant "nobody"/ });
  t.throws(() => gubernatorRequest(tenants, { tenant: 'open', name: 'constructor' }), { message: /no rate "constructor"/ });
});

test('the sample policy compiles whole, every tenant with its features', async (t) => {
  const tenants = await compilePolicyFolder('config/samples', NOW);
  t.true(tenants.size >= 6);
  const data = opaData(tenants);
  t.is(data.tenants.umbrella?.suspended, true);
  t.is(data.tenants.acme?.features['max-projects'], 50);
});

test('a policy folder that does not compile whole is refused, not half-used', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-peers-test-'));
  try {
    await writeFile(join(dir, 'tenant.yaml'), 'apiVersion: tai.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: lost\nspec:\n  sku: no-such-sku\n');
    await t.throwsAsync(compilePolicyFolder(dir, NOW), { message: /not compiled: Tenant\/lost/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
