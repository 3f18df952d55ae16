// Reconcile receipts: one per change of a tenant's effective entitlements, and none lost to an append that threw.
import test from 'ava';
import { PolicyCompiler } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import type { ReceiptLog } from '../receipts/store/index.ts';
import { PolicyReceipts } from './policy-receipts.ts';

/** A log that keeps what is appended, and throws on the appends a test says (a full disk, a failed write). */
function flakyLog(failAt: Set<number>) {
  const appended: Array<{ tenant: string; patch: unknown }> = [];
  let calls = 0;
  const log = {
    append(_kind: string, body: { resource: string; patch: unknown }) {
      if (failAt.has(++calls)) throw new Error('EIO: write failed');
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
