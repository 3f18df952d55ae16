// Three `tai serve` replicas sharing counters in one real redis-server (design §12, issue 17): together they
// allow exactly up to a hard limit, a retried idempotency key gets the first answer byte for byte from any
// replica, each keeps and verifies its own log, and /readyz and /metrics show the counters.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTai } from './support/log-fixture.ts';
import { flushRedis, redisCall, restartRedis, startRedis, stopRedis, type RedisServer } from './support/redis-server.ts';
import { getJson, startServe, stopServe, type Served } from './support/served.ts';

const POLICY = `
apiVersion: tai.dev/v1alpha1
kind: SKU
metadata: { name: metered }
spec:
  quotas:
    builds: { limit: 27, window: month, enforcement: hard }
    api-calls: { limit: 1000, window: month, enforcement: hard }
    deploys: { limit: 120, window: month, enforcement: hard }
---
apiVersion: tai.dev/v1alpha1
kind: Tenant
metadata: { name: acme }
spec: { sku: metered }
`;

let dir: string;
let redis: RedisServer;
const replicas: Served[] = [];

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tai-replicas-'));
  await writeFile(join(dir, 'policy.yaml'), POLICY);
  redis = await startRedis();
  for (let i = 0; i < 3; i++) {
    const args = ['--from', dir, '--log', join(dir, `log-${i}`), '--origin', `tai.dev/test/replica-${i}`, '--listen', '127.0.0.1:0', '--counters', redis.url, '--counters-timeout', '3000'];
    replicas.push(await startServe(args));
  }
});

test.after.always(async () => {
  await Promise.all(replicas.map((r) => stopServe(r)));
  if (redis) await stopRedis(redis);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const consume = (replica: number, body: object): Promise<Response> =>
  fetch(`${replicas[replica]!.url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'acme', ...body }) });

test.serial('60 concurrent consumes of 1 over three replicas against a hard limit of 27: exactly 27 allowed', async (t) => {
  const answers = await Promise.all(Array.from({ length: 60 }, async (_, i) => (await consume(i % 3, { metric: 'builds', amount: 1 })).json() as Promise<Record<string, unknown>>));
  t.is(answers.filter((a) => a.allowed === true).length, 27);
  t.true(answers.every((a) => a.allowed === true || a.reason === 'QuotaExceeded'), JSON.stringify(answers.find((a) => a.allowed !== true && a.reason !== 'QuotaExceeded')));
  // Each replica got 20, under the limit: on its own counters each would have allowed all of them (60 in all).
  const receipts = answers.map((a) => a.receipt as { origin?: string });
  t.true(receipts.every((rc, i) => rc.origin === `tai.dev/test/replica-${i % 3}`), 'each answer names the log of the replica that recorded it');
});

test.serial('a retried idempotency key on another replica returns the first answer byte for byte, and counts nothing', async (t) => {
  const first = await (await consume(0, { metric: 'api-calls', amount: 5, idempotencyKey: 'order-42' })).text();
  for (const r of [1, 2, 0]) {
    const retry = await consume(r, { metric: 'api-calls', amount: 5, idempotencyKey: 'order-42' });
    t.is(retry.status, 200);
    t.is(await retry.text(), first, `replica ${r}`);
  }
  t.like(JSON.parse(first), { allowed: true, used: 5, receipt: { origin: 'tai.dev/test/replica-0' } });
  const peek = (await (await consume(2, { metric: 'api-calls', amount: 0 })).json()) as { used: number };
  t.is(peek.used, 5);
});

async function until(probe: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !probe() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 25));
}

test.serial('Redis killed mid-load and restarted empty: the limit is never passed, and the count comes back from the logs', async (t) => {
  const answers: Array<{ allowed: boolean; reason: string; used: number }> = [];
  let stop = false;
  const load = Promise.all(
    Array.from({ length: 9 }, async (_, i) => {
      while (!stop) answers.push((await (await consume(i % 3, { metric: 'deploys', amount: 1 })).json()) as (typeof answers)[number]);
    }),
  );
  await until(() => answers.filter((a) => a.allowed).length >= 40);
  await restartRedis(redis);
  const lostAt = answers.length;
  await until(() => answers.filter((a) => a.reason === 'QuotaExceeded').length >= 5);
  stop = true;
  await load;
  const allowed = answers.filter((a) => a.allowed);
  const summary = (): string => `${JSON.stringify(Object.entries(Object.groupBy(answers, (a) => a.reason)).map(([k, v]) => [k, v?.length]))}\n${replicas.map((r) => [...r.stdout, ...r.stderr].slice(-8).join('\n')).join('\n---\n')}`;
  t.is(allowed.length, 120, `exactly the limit: never past it, and not short once the count is restored\n${summary()}`);
  t.is(new Set(allowed.map((a) => a.used)).size, 120, 'each allowed unit saw its own count');
  t.true(answers.slice(lostAt).some((a) => a.reason === 'CountersUnavailable' && !a.allowed), 'denied while the counters were down or being restored');
  t.like(await (await consume(1, { metric: 'deploys', amount: 0 })).json(), { used: 120 }, summary());
  // Each replica counted in a new epoch after the loss: the one the restore ended in.
  for (const r of replicas) t.true(new Set(r.stdout.flatMap((l) => /shared counters ready \(epoch (\S+)\)/.exec(l)?.[1] ?? [])).size >= 2, r.stdout.join('\n'));
});

test.serial('/readyz and /metrics show the shared counters; each replica keeps a log that verifies', async (t) => {
  for (const r of replicas) {
    const ready = (await getJson(`${r.url}/readyz`)) as { ready: boolean; counters?: { connected: boolean; latencyMs: number } };
    t.true(ready.ready);
    t.like(ready.counters, { connected: true, state: 'ready' });
    t.true(ready.counters!.latencyMs > 0);
    const metrics = await (await fetch(`${r.url}/metrics`)).text();
    t.regex(metrics, /^tai_counters_up 1$/m);
    t.regex(metrics, /^tai_counters_duration_seconds_count\{outcome="ok"\} [1-9]/m);
  }
  await Promise.all(replicas.map((r) => stopServe(r)));
  const logs = [0, 1, 2].map((i) => join(dir, `log-${i}`));
  const verified = await runTai(['log', 'verify', ...logs]);
  t.is(verified.code, 0, verified.err.join('\n'));
  // One audit of the deployment: per counter, the highest count any log recorded is what the counter holds, and
  // the units the three logs allowed add up to it (after the restore too).
  const audited = await runTai(['audit', 'report', '--from', ...logs, '--json']);
  t.is(audited.code, 0, audited.err.join('\n'));
  const usage = (JSON.parse(audited.out.join('\n')) as { deployment: { usage: Array<{ tenant: string; metric: string; highestUsed: number; allowedAmount: number }> } }).deployment.usage;
  const counted = async (metric: string): Promise<number> => Number(await redisCall(redis, ['HGET', `{tai}:u:acme:${metric}`, 'u']));
  for (const metric of ['builds', 'deploys', 'api-calls']) {
    const row = usage.find((u) => u.tenant === 'acme' && u.metric === metric);
    t.is(row?.highestUsed, await counted(metric), metric);
    t.is(row?.allowedAmount, row?.highestUsed, `${metric}: the logs' allowed units add up to the counter`);
  }
});

test.serial('tai counters rebuild: a store emptied while every replica was down is folded back from their logs', async (t) => {
  await Promise.all(replicas.map((r) => stopServe(r)));
  await flushRedis(redis);
  const logs = [0, 1, 2].map((i) => join(dir, `log-${i}`));
  const rebuilt = await runTai(['counters', 'rebuild', ...logs, '--counters', redis.url]);
  t.is(rebuilt.code, 0, rebuilt.err.join('\n'));
  t.regex(rebuilt.out.join('\n'), /folded 3 log\(s\) into epoch \S+; the counters are whole and counting/);
  const used = async (metric: string): Promise<string> => String(await redisCall(redis, ['HGET', `{tai}:u:acme:${metric}`, 'u']));
  t.is(await used('builds'), '27');
  t.is(await used('deploys'), '120');
  t.is(await used('api-calls'), '5');
});
