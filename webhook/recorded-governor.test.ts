import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledPolicy, Governor, PolicyCompiler } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { ReceiptLog, type Durability } from '../receipts/store/index.ts';
import { RecordedGovernor } from './recorded-governor.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const clock = { now: () => NOW };

async function recorded(durability: Durability, asyncDelayMs: number) {
  const dir = await mkdtemp(join(tmpdir(), 'tai-recorded-'));
  const log = await ReceiptLog.open({ dir, durability, clock, asyncDelayMs });
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [skuOf('growth', { quotas: { 'api-calls': { limit: 10 } } }), tenantOf('acme', { sku: 'growth' })] }, NOW);
  const governor = new RecordedGovernor(new Governor({ policy: new CompiledPolicy(compiler), clock }), log);
  return { log, governor, done: async () => (await log.close(), await rm(dir, { recursive: true, force: true })) };
}

test('sync durability answers only once the receipt is on disk', async (t) => {
  const { log, governor, done } = await recorded('sync', 60_000);
  const answer = await governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k1' });
  t.true(log.durableSize > answer.receipt.index);
  const replay = await governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k1' });
  t.deepEqual(replay.receipt, answer.receipt);
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
