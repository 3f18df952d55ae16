// Issue 15, defects 4 and 5, through the HTTP app over a real receipt log: input a receipt cannot hold is a 400
// that changes nothing (no usage, no key, no entry), and counters at 2^53-1 answer 200, never 500.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SkuSpec } from '../crds/index.ts';
import { CompiledPolicy, Governor, PolicyCompiler } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { ReceiptLog } from '../receipts/store/index.ts';
import { createApp } from './app.ts';
import { LogReplay } from '../recording/log-replay.ts';
import { RecordedGovernor, recordThreshold } from '../recording/recorded-governor.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const clock = { now: () => NOW };
const MAX = Number.MAX_SAFE_INTEGER;

const SPEC: SkuSpec = {
  features: { sso: true },
  quotas: {
    'api-calls': { limit: 10 },
    soft: { limit: 10, enforcement: 'soft' },
    observed: { limit: 10, enforcement: 'observe' },
    seats: { limit: 10, kind: 'gauge', enforcement: 'soft' },
  },
  rates: { requests: { perSecond: 1, burst: MAX } },
};

async function served(t: { teardown: (f: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'tai-unrecordable-'));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [skuOf('growth', SPEC), tenantOf('acme', { sku: 'growth' })] }, NOW);
  const policy = new CompiledPolicy(compiler);
  const governor = new Governor({ policy, clock, onThreshold: (e) => recordThreshold(log, e) });
  const errors: unknown[] = [];
  const app = createApp({
    decisions: new RecordedGovernor(governor, log),
    tenant: (n) => policy.tenant(n, NOW),
    readiness: () => ({ ready: true, generation: 1, tenants: 1, problems: 0, staleMs: 0, source: 'test' }),
    onError: (e) => errors.push(e),
  });
  const post = async (path: string, body: unknown) => {
    const res = await app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  /** What a restart would see: the state the process holds, as the log and the governor give it. */
  const state = () => ({ entries: log.size, cells: [...governor.usage.cells()], keys: [...governor.idempotency.entries(NOW)].map((e) => e.key) });
  const replayed = async () => {
    await log.flush();
    const replay = new LogReplay();
    const reread = await ReceiptLog.open({ dir, durability: 'sync', clock, onEntry: (e) => replay.add(e) });
    await reread.close();
    const fresh = new Governor({ policy, clock });
    replay.restore(fresh);
    return [...fresh.usage.cells()];
  };
  t.teardown(async () => {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { post, state, replayed, errors, governor };
}

const LONE = ['k\ud800', '\udfff', 'a\ud83d'];

const SINGLE: Array<{ path: string; body: Record<string, unknown>; field: string }> = [
  { path: '/v1/consume', body: { tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'LONE' }, field: 'idempotencyKey' },
  { path: '/v1/consume', body: { tenant: 'LONE', metric: 'api-calls', amount: 1 }, field: 'tenant' },
  { path: '/v1/consume', body: { tenant: 'acme', metric: 'LONE', amount: 1 }, field: 'metric' },
  { path: '/v1/check', body: { tenant: 'acme', feature: 'LONE' }, field: 'feature' },
  { path: '/v1/rate', body: { tenant: 'acme', name: 'LONE', cost: 1 }, field: 'name' },
];

for (const { path, body, field } of SINGLE) {
  test(`a lone surrogate in ${path} ${field} is a 400 naming the field, and changes nothing`, async (t) => {
    const s = await served(t);
    for (const lone of LONE) {
      const before = s.state();
      const { status, json } = await s.post(path, { ...body, [field]: lone });
      t.is(status, 400, JSON.stringify(json));
      t.regex(String(json.detail), new RegExp(`^${field}: .*lone UTF-16 surrogate`));
      t.deepEqual(s.state(), before);
    }
    t.deepEqual(s.errors, []);
  });
}

test('a batch with a lone surrogate in item 2 is a 400 naming decisions[2].idempotencyKey; items 0 and 1 are not decided', async (t) => {
  const s = await served(t);
  const before = s.state();
  const { status, json } = await s.post('/v1/batch', {
    decisions: [
      { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'fine' },
      { op: 'check', tenant: 'acme', feature: 'sso' },
      { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'k\ud800' },
    ],
  });
  t.is(status, 400, JSON.stringify(json));
  t.regex(String(json.detail), /^decisions\[2\]\.idempotencyKey: .*lone UTF-16 surrogate/);
  t.deepEqual(s.state(), before);
  t.deepEqual(s.errors, []);
});

for (const metric of ['soft', 'observed', 'seats']) {
  test(`a ${metric} quota at 2^53-1 saturates: later consumes and peeks answer 200, usage stays 2^53-1, and replay agrees`, async (t) => {
    const s = await served(t);
    const first = await s.post('/v1/consume', { tenant: 'acme', metric, amount: MAX });
    t.is(first.status, 200, JSON.stringify(first.json));
    t.is(first.json.used, MAX);
    for (const amount of [1, MAX, 0, 5]) {
      const { status, json } = await s.post('/v1/consume', { tenant: 'acme', metric, amount, idempotencyKey: `k${amount}` });
      t.is(status, 200, JSON.stringify(json));
      t.is(json.used, MAX);
      t.is(json.allowed, true);
    }
    const batch = await s.post('/v1/batch', { decisions: [{ op: 'consume', tenant: 'acme', metric, amount: 0 }, { op: 'consume', tenant: 'acme', metric, amount: 7 }] });
    t.is(batch.status, 200, JSON.stringify(batch.json));
    t.deepEqual(s.state().cells.map((c) => c.used), [MAX]);
    t.deepEqual(await s.replayed(), s.state().cells);
    t.deepEqual(s.errors, []);
  });
}

test('a gauge released by 2^53-1 floors at 0 and answers 200', async (t) => {
  const s = await served(t);
  t.is((await s.post('/v1/consume', { tenant: 'acme', metric: 'seats', amount: 3 })).status, 200);
  const released = await s.post('/v1/consume', { tenant: 'acme', metric: 'seats', amount: -MAX });
  t.is(released.status, 200);
  t.is(released.json.used, 0);
  t.deepEqual(s.errors, []);
});

test('a token bucket of burst 2^53-1 answers 200 for a cost of 2^53-1 twice (the second says when to retry, a safe integer)', async (t) => {
  const s = await served(t);
  const first = await s.post('/v1/rate', { tenant: 'acme', name: 'requests', cost: MAX });
  t.is(first.status, 200, JSON.stringify(first.json));
  t.is(first.json.allowed, true);
  const second = await s.post('/v1/rate', { tenant: 'acme', name: 'requests', cost: MAX });
  t.is(second.status, 200, JSON.stringify(second.json));
  t.is(second.json.allowed, false);
  t.true(Number.isSafeInteger(second.json.retryAfterMs) && (second.json.retryAfterMs as number) > 0);
  t.deepEqual(s.errors, []);
});
