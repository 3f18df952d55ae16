import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledPolicy, Governor, PolicyCompiler } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { FaultyFs } from '../receipts/store/faulty-fs.test-helper.ts';
import { ReceiptLog, type Durability } from '../receipts/store/index.ts';
import { createApp } from '../http/app.ts';
import { RecordedGovernor } from './recorded-governor.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const clock = { now: () => NOW };

async function recorded(durability: Durability, asyncDelayMs: number) {
  const dir = await mkdtemp(join(tmpdir(), 'tai-recorded-'));
  const log = await ReceiptLog.open({ dir, durability, clock, asyncDelayMs });
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [skuOf('growth', { quotas: { 'api-calls': { limit: 10 } } }), tenantOf('acme', { sku: 'growth' })] }, NOW);
  const inner = new Governor({ policy: new CompiledPolicy(compiler), clock });
  const governor = new RecordedGovernor(inner, log);
  return { log, governor, inner, done: async () => (await log.close(), await rm(dir, { recursive: true, force: true })) };
}

test('sync durability answers only once the receipt is on disk', async (t) => {
  const { log, governor, done } = await recorded('sync', 60_000);
  const answer = await governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k1' });
  t.true(log.durableSize > answer.receipt.index);
  const replay = await governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k1' });
  t.deepEqual(replay.receipt, answer.receipt);
  await done();
});

test('recording does not change the decision the governor answered (its idempotency cache holds it): replays answer a recorded copy', async (t) => {
  const { governor, inner, done } = await recorded('sync', 60_000);
  const decided: object[] = [];
  const consume = inner.consume.bind(inner);
  inner.consume = (r) => {
    const d = consume(r);
    decided.push(d);
    return d;
  };
  const answer = await governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k1' });
  const replay = await governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k1' });
  t.false('receipt' in decided[0]!, 'the governor decided without a receipt');
  t.deepEqual({ ...decided[0]!, receipt: answer.receipt }, answer);
  t.deepEqual(replay, answer);
  const [a, b] = await governor.batch([
    { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k2' },
    { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k2' },
  ]);
  t.deepEqual(b, a, 'a key repeated in a batch is recorded once');
  t.is(b!.receipt.index, answer.receipt.index + 1);
  await done();
});

test('async durability answers at once, before the receipt is written, and writes it within the delay', async (t) => {
  const { log, governor, done } = await recorded('async', 60_000);
  const answer = await governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k1' });
  const replay = await governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k1' });
  const checked = await governor.check({ tenant: 'acme', feature: 'sso' });
  t.is(log.durableSize, 0, 'answered with a one-minute write delay still pending');
  t.deepEqual(replay.receipt, answer.receipt);
  t.is(checked.receipt.index, answer.receipt.index + 1);
  await log.flush();
  t.is(log.durableSize, checked.receipt.index + 1);
  await done();
});

test('a full disk over HTTP: the failed write answers "outcome unknown", later requests are refused before deciding, /readyz is 503; once it heals a retry answers what was recorded', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-recorded-'));
  const fs = new FaultyFs({ fault: 'ENOSPC', at: 2, until: 'healed' });
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock, fs, retry: { firstMs: 1, maxMs: 1 } });
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [skuOf('growth', { quotas: { 'api-calls': { limit: 100 } } }), tenantOf('acme', { sku: 'growth' })] }, NOW);
  const policy = new CompiledPolicy(compiler);
  const app = createApp({
    decisions: new RecordedGovernor(new Governor({ policy, clock }), log),
    tenant: (n) => policy.tenant(n, NOW),
    readiness: () => ({ ready: true, generation: 1, tenants: 1, problems: 0, staleMs: 0, source: 'test', log: log.health.writable ? { writable: true } : { writable: false, error: log.health.error } }),
  });
  const consume = (amount: number, idempotencyKey?: string) =>
    app.request('/v1/consume', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'acme', metric: 'api-calls', amount, idempotencyKey }) });
  t.is((await consume(1, 'k1')).status, 200);
  const unknown = await consume(2, 'k2');
  t.is(unknown.status, 503);
  t.is(unknown.headers.get('retry-after'), '1');
  t.regex(((await unknown.json()) as { detail: string }).detail, /ENOSPC.*the outcome is unknown: retry with the same idempotencyKey/);
  const ready = await app.request('/readyz');
  t.is(ready.status, 503);
  t.like(await ready.json(), { status: 'not ready', ready: false, log: { writable: false } });
  const refused = await consume(4, 'k3');
  t.is(refused.status, 503);
  t.regex(((await refused.json()) as { detail: string }).detail, /cannot write.*nothing was decided/);
  fs.heal();
  await log.whenWritable();
  t.is((await app.request('/readyz')).status, 200);
  const retried = (await (await consume(2, 'k2')).json()) as { used: number; receipt: { index: number } };
  t.like(retried, { used: 3, receipt: { index: 1 } }, 'the recorded decision, with its receipt');
  t.like(await (await consume(0)).json(), { used: 3 }, 'the refused request was never counted');
  await log.close();
  await rm(dir, { recursive: true, force: true });
});
