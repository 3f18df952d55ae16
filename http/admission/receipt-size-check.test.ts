// Issue 15, defect 6, admission: a Tenant or an SKU that would give a tenant entitlements too large to record in
// the receipt log is refused at `kubectl apply`, naming the tenant, the receipt size and the limit.
import test from 'ava';
import type { Sku, TaiResource, Tenant } from '../../crds/index.ts';
import { oversizePolicy, skuOf } from '../../governor/policy-fixtures.test-helper.ts';
import { checkPolicyObject } from './policy-checks.ts';

const [plan, ...rest] = oversizePolicy();
const big = rest.pop() as Tenant;
const addOns = rest as Sku[];
const byName = <T extends TaiResource>(rs: readonly T[]): Map<string, T> => new Map(rs.map((r) => [r.metadata.name, r]));

test('a Tenant taking the five big add-ons is refused with its receipt size and the limit', (t) => {
  const denial = checkPolicyObject({ object: big, skus: byName([plan, ...addOns]) });
  t.like(denial, { allowed: false, reason: 'ReceiptTooLarge' });
  t.regex(denial!.message, /^Tenant\/big: tenant big: its entitlements make a reconcile receipt of \d{7} bytes; at most 32767 are allowed/);
});

test('an SKU change that would make the tenants using it too large is refused, naming them', (t) => {
  const small = addOns.map((s) => skuOf(s.metadata.name, { features: { [`${s.metadata.name}-on`]: true } }));
  const tenants = byName([big, { ...big, metadata: { ...big.metadata, name: 'big-twin' } }, { ...big, metadata: { ...big.metadata, name: 'other' }, spec: { sku: 'plan' } }]);
  t.is(checkPolicyObject({ object: small[0], skus: byName([plan, ...small]), tenants }), undefined, 'small add-ons are fine');
  const grown = checkPolicyObject({ object: skuOf('addon-0', { features: Object.fromEntries(Array.from({ length: 40 }, (_, j) => [`f${j}`, 'x'.repeat(1000)])) }), skus: byName([plan, ...small]), tenants });
  t.like(grown, { allowed: false, reason: 'ReceiptTooLarge' });
  t.regex(grown!.message, /^SKU\/addon-0: tenant big-twin: its entitlements make a reconcile receipt of \d+ bytes; at most 32767/, 'one tenant per distinct spec, the longest name');
  t.notRegex(grown!.message, /tenant other/, 'a tenant that does not use the SKU is not compiled');
});

test('a Tenant within the budget is admitted', (t) => {
  const modest = skuOf('addon-0', { features: Object.fromEntries(Array.from({ length: 20 }, (_, j) => [`f${j}`, 'x'.repeat(1000)])) });
  t.is(checkPolicyObject({ object: { ...big, spec: { sku: 'plan', addOns: [{ sku: 'addon-0' }] } }, skus: byName([plan, modest]) }), undefined);
});
