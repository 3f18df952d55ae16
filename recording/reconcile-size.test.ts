// ADR 11: with every tenant's whole entitlements within ENTITLEMENTS_RECEIPT_BUDGET, the reconcile receipt of any
// change between two such states fits in one log entry. A property over feature maps near the budget.
import test from 'ava';
import fc from 'fast-check';
import mergePatch from 'json-merge-patch';
import { effectiveDocument, PolicyCompiler } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { encodeReceipt, MAX_ENTRY_SIZE, reconcileBody, zeroPrev } from '../receipts/index.ts';
import { checkEntitlementsReceipt, ENTITLEMENTS_RECEIPT_BUDGET, entitlementsReceiptBytes } from './reconcile-size.ts';

/** Features sized to the budget: `count` values of `each` characters, under keys that two states share or not. */
const sized = fc
  .record({ count: fc.integer({ min: 1, max: 60 }), each: fc.integer({ min: 0, max: 1100 }), prefix: fc.constantFrom('a', 'b'), char: fc.constantFrom('x', 'é') })
  .map(({ count, each, prefix, char }) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}-${i}`, char.repeat(each)])) as Record<string, string>);
const random = fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }).filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)), fc.oneof(fc.integer({ min: 0, max: 1500 }).map((n) => 'x'.repeat(n)), fc.integer({ min: 0, max: 700 }).map((n) => 'é'.repeat(n)), fc.string(), fc.boolean(), fc.integer()), { maxKeys: 40, size: 'max' });
const features = fc.oneof(sized, random);

/** The tenant's compiled entitlements with its plan's features, or undefined when the budget refuses them. */
function compiled(f: Record<string, string | number | boolean>) {
  const c = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
  return c.apply({ upsert: [skuOf('plan', { features: f }), tenantOf('t', { sku: 'plan' })] }, 0).tenants.get('t');
}

test('property: the receipt of any change between two states within the budget fits in a log entry', (t) => {
  let near = 0;
  let largest = 0;
  fc.assert(
    fc.property(features, features, (a, b) => {
      const before = compiled(a);
      const after = compiled(b);
      fc.pre(before !== undefined && after !== undefined);
      if (entitlementsReceiptBytes('t', before!) > ENTITLEMENTS_RECEIPT_BUDGET / 2) near++;
      const patch = mergePatch.generate(effectiveDocument(before!), effectiveDocument(after!)) ?? {};
      const body = reconcileBody({ resource: 'Tenant/t', generation: Number.MAX_SAFE_INTEGER, specDigest: '0'.repeat(64), patch });
      const bytes = encodeReceipt({ v: 1, kind: 'reconcile', index: Number.MAX_SAFE_INTEGER, time: Number.MAX_SAFE_INTEGER, prev: zeroPrev(), body }).length;
      largest = Math.max(largest, bytes);
      return bytes <= MAX_ENTRY_SIZE;
    }),
    { numRuns: 300 },
  );
  t.true(near > 0, 'some states were more than half-way to the budget');
  t.log(`${near} states past half the budget; the largest change receipt: ${largest} bytes`);
});

test('a state over the budget is refused by the check, and one within it is not', (t) => {
  t.is(compiled({ big: 'x'.repeat(ENTITLEMENTS_RECEIPT_BUDGET) }), undefined);
  t.truthy(compiled({ small: 'x'.repeat(1000) }));
});

test('the worst change, from a state of long keys at the budget to a disjoint one at the budget, still fits', (t) => {
  // The patch holds every new value and a null under every removed key: keys of the largest length (128) make
  // the nulls weigh as much as the old state.
  const state = (prefix: string, count: number): Record<string, boolean> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${String(i).padStart(4, '0')}`.padEnd(128, 'k'), true]));
  let count = 100;
  while (count < 256 && compiled(state('a', count + 1)) && compiled(state('b', count + 1))) count++;
  const before = compiled(state('a', count))!;
  const after = compiled(state('b', count))!;
  t.true(entitlementsReceiptBytes('t', before) > ENTITLEMENTS_RECEIPT_BUDGET - 200, `at the budget: ${entitlementsReceiptBytes('t', before)} bytes, ${count} keys`);
  const patch = mergePatch.generate(effectiveDocument(before), effectiveDocument(after));
  const body = reconcileBody({ resource: 'Tenant/t', generation: Number.MAX_SAFE_INTEGER, specDigest: '0'.repeat(64), patch });
  const bytes = encodeReceipt({ v: 1, kind: 'reconcile', index: Number.MAX_SAFE_INTEGER, time: Number.MAX_SAFE_INTEGER, prev: zeroPrev(), body }).length;
  t.true(bytes > 60_000 && bytes <= MAX_ENTRY_SIZE, `${bytes} bytes`);
});
