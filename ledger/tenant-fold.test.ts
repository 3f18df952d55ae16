import test from 'ava';
import { AuditFold } from './audit-fold.ts';
import { gaugeLog, T0 } from './ledger.test-helper.ts';
import { decisionsPerMinute } from './recent-outcomes.ts';
import { foldTenant } from './tenant-fold.ts';
import { rfc3339FromMicros } from './time.ts';

const at = (i: number): string => rfc3339FromMicros(T0 + i * 1_000_000);

test('a gauge crossing 100 % again names the consume that re-armed it', (t) => {
  const fold = new AuditFold({ filter: {} });
  for (const e of gaugeLog()) fold.add(e);
  const [first, again] = fold.tally().thresholds.shown;
  t.deepEqual(first, { index: 1, time: at(1), tenant: 'acme', metric: 'seats', threshold: 100, percent: 100, used: 10, limit: 10 });
  t.deepEqual(again, { index: 4, time: at(4), tenant: 'acme', metric: 'seats', threshold: 100, percent: 100, used: 10, limit: 10, rearmed: { index: 2, time: at(2), used: 5, limit: 10, stillFired: 0 } });
});

test('a peek at a full quota is no denied decision; an unknown name is no tenant', (t) => {
  const fold = new AuditFold({ filter: {} });
  for (const e of gaugeLog()) fold.add(e);
  const { decisions } = fold.tally();
  t.like(decisions, { total: 5, allowed: 3, denied: 2, peeks: { total: 1, allowed: 0, denied: 1 } });
  t.deepEqual(decisions.byTenant, [{ key: 'acme', total: 4, allowed: 3, denied: 1 }]);
  t.deepEqual(decisions.unknownTenants, [{ key: 'nobody', total: 1, allowed: 0, denied: 1 }]);
  t.deepEqual(decisions.byReason.map((r) => [r.key, r.total]), [['Allowed', 3], ['QuotaExceeded', 1], ['UnknownTenant', 1]]);
});

test('foldTenant: recent decisions newest first, crossings, policy history, usage', (t) => {
  const view = foldTenant(gaugeLog(), 'acme', { limit: 3 });
  t.is(view.tenant, 'acme');
  t.deepEqual(view.decisions.recent.map((d) => [d.index, d.peek]), [[8, false], [5, true], [3, false]]);
  t.like(view.decisions.recent[0], { op: 'consume', subject: 'seats', allowed: false, reason: 'QuotaExceeded', amount: 3, used: 10, limit: 10 });
  t.like(view.decisions, { total: 4, allowed: 3, denied: 1, peeks: { total: 1, allowed: 0, denied: 1 } });
  t.deepEqual(view.thresholds.recent.map((c) => [c.index, c.rearmed?.index]), [[4, 2], [1, undefined]]);
  t.is(view.policyHistory.total, 1);
  t.like(view.policyHistory.recent[0], { index: 7, generation: 2, resource: 'Tenant/acme' });
  t.deepEqual(JSON.parse(view.policyHistory.recent[0]!.patch), { quotas: { seats: { limit: 12 } } });
  t.like(view.usage, [{ tenant: 'acme', metric: 'seats', windowStart: null, highestUsed: 10, limit: 10 }]);
  t.deepEqual(foldTenant(gaugeLog(), 'nobody').decisions.recent.length, 1, 'an unknown name has its decisions too');
});

test('decisionsPerMinute: the last minutes by outcome, peeks apart, every minute listed', (t) => {
  const receipts = gaugeLog().map((e) => e.receipt);
  const minute = Math.floor(T0 / 60_000_000) * 60_000;
  const rows = decisionsPerMinute(receipts, { nowMs: minute + 2 * 60_000 + 5, minutes: 3 });
  t.deepEqual(rows, [
    { start: minute, allowed: 3, denied: 2, peeks: 1 },
    { start: minute + 60_000, allowed: 0, denied: 0, peeks: 0 },
    { start: minute + 120_000, allowed: 0, denied: 0, peeks: 0 },
  ]);
  t.deepEqual(decisionsPerMinute(receipts, { nowMs: minute + 10 * 60_000, minutes: 2 }).map((r) => r.allowed + r.denied), [0, 0]);
});
