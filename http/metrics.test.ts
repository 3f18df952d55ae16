import test from 'ava';
import { Hono } from 'hono';
import { register as globalRegistry } from 'prom-client';
import { CompiledPolicy, DecisionInputError, Governor, PolicyCompiler, type RateDecision } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { createApp } from './app.ts';
import type { DecisionService } from './decision-api.ts';
import { meteredDecisions, metricsApi, ServerMetrics, type ServerMetricsOptions } from './metrics.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');

/** A monotonic clock that moves 2 ms each time it is read: every timed span is a whole number of 2 ms steps. */
function steppingClock(): () => number {
  let t = 0;
  return () => (t += 2);
}

/** The full app (createApp) over a small policy, with metrics on. */
function setup(opts: ServerMetricsOptions = {}) {
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [skuOf('growth', { features: { sso: true }, quotas: { 'api-calls': { limit: 10 } } }), tenantOf('acme', { sku: 'growth' }), tenantOf('initech', { sku: 'growth' })] }, NOW);
  const clock = { now: () => NOW };
  const policy = new CompiledPolicy(compiler);
  const metrics = new ServerMetrics({ now: steppingClock(), ...opts });
  const app = createApp({
    decisions: new Governor({ policy, clock }),
    tenant: (n) => policy.tenant(n, NOW),
    readiness: () => ({ ready: true, generation: 1, tenants: 2, problems: 0, staleMs: 0, source: 'test' }),
    metrics,
  });
  const post = (path: string, body: unknown) => app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const scrape = async () => (await app.request('/metrics')).text();
  return { app, post, scrape, metrics };
}

/** The value of the one series of `name` whose labels include `labels`; undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) found.push(Number(m[3]));
  }
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
  return found[0];
}

test('decisions are counted by op, outcome and reason, and timed in buckets per op', async (t) => {
  const { post, scrape } = setup();
  for (const amount of [4, 4, 4]) await post('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount });
  await post('/v1/check', { tenant: 'acme', feature: 'sso' });
  await post('/v1/check', { tenant: 'nobody', feature: 'sso' });
  await post('/v1/batch', { decisions: [{ op: 'check', tenant: 'acme', feature: 'sso' }, { op: 'consume', tenant: 'initech', metric: 'api-calls', amount: 11 }] });
  const text = await scrape();

  t.is(sample(text, 'tai_decisions_total', { op: 'consume', outcome: 'allowed', reason: 'Allowed' }), 2);
  t.is(sample(text, 'tai_decisions_total', { op: 'consume', outcome: 'denied', reason: 'QuotaExceeded' }), 2, 'the third single consume and the batch item');
  t.is(sample(text, 'tai_decisions_total', { op: 'check', outcome: 'allowed', reason: 'Allowed' }), 2, 'the single check and the batch item');
  t.is(sample(text, 'tai_decisions_total', { op: 'check', outcome: 'denied', reason: 'UnknownTenant' }), 1);
  t.is(sample(text, 'tai_decisions_total', { op: 'batch' }), undefined, 'batch items count under their own op');

  // Every decision call spans exactly one 2 ms step of the stepping clock: above the 1 ms bucket, within 2.5 ms.
  t.regex(text, /^tai_decision_duration_seconds_bucket\{[^}]*op="consume"[^}]*\} 3$/m);
  t.is(sample(text, 'tai_decision_duration_seconds_bucket', { op: 'consume', le: '0.001' }), 0);
  t.is(sample(text, 'tai_decision_duration_seconds_bucket', { op: 'consume', le: '0.0025' }), 3);
  t.is(sample(text, 'tai_decision_duration_seconds_count', { op: 'consume' }), 3);
  t.is(sample(text, 'tai_decision_duration_seconds_count', { op: 'check' }), 2);
  t.is(sample(text, 'tai_decision_duration_seconds_count', { op: 'batch' }), 1, 'a batch is timed once, as a whole');
  t.is(sample(text, 'tai_decision_duration_seconds_bucket', { op: 'consume', le: '+Inf' }), 3);
});

test('requests are counted by route pattern and status class, never by raw path', async (t) => {
  const { app, post, scrape } = setup();
  t.is((await app.request('/v1/tenants/acme/entitlements')).status, 200);
  t.is((await app.request('/v1/tenants/initech/entitlements')).status, 200);
  t.is((await app.request('/v1/tenants/nobody/entitlements')).status, 404);
  t.is((await post('/v1/check', { tenant: 'acme' })).status, 400);
  t.is((await app.request('/no/such/path/42')).status, 404);
  const text = await scrape();

  t.is(sample(text, 'tai_http_requests_total', { route: '/v1/tenants/:name/entitlements', status: '2xx' }), 2);
  t.is(sample(text, 'tai_http_requests_total', { route: '/v1/tenants/:name/entitlements', status: '4xx' }), 1);
  t.is(sample(text, 'tai_http_requests_total', { route: '/v1/check', status: '4xx' }), 1);
  t.is(sample(text, 'tai_http_requests_total', { route: 'unmatched', status: '4xx' }), 1);
  t.is(sample(text, 'tai_http_request_duration_seconds_count', { route: '/v1/tenants/:name/entitlements' }), 3);
  t.notRegex(text, /acme|initech|nobody|no\/such/, 'no tenant name or raw path in any label');
  t.is(sample(text, 'tai_decisions_total', { op: 'check' }), undefined, 'a malformed request is no decision');
});

test('/metrics serves the Prometheus text format and counts its own scrapes', async (t) => {
  const { app } = setup();
  const first = await app.request('/metrics');
  t.is(first.status, 200);
  t.is(first.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  t.regex(await first.text(), /^# TYPE tai_decision_duration_seconds histogram$/m);
  // The first scrape is counted once it has been answered, so the second scrape sees it.
  t.is(sample(await (await app.request('/metrics')).text(), 'tai_http_requests_total', { route: '/metrics', status: '2xx' }), 1);
});

test('gauges read their callbacks at each scrape; gauges without a callback are not exported', async (t) => {
  let size = 41;
  let staleMs = 0;
  const { scrape } = setup({ logEntries: () => size, watchStalenessSeconds: () => staleMs / 1000, policyGeneration: () => 7, tenants: () => 2 });
  let text = await scrape();
  t.is(sample(text, 'tai_log_entries'), 41);
  t.is(sample(text, 'tai_watch_staleness_seconds'), 0);
  t.is(sample(text, 'tai_policy_generation'), 7);
  t.is(sample(text, 'tai_tenants'), 2);
  t.false(text.includes('tai_log_checkpoint_age_seconds'));
  size = 1000;
  staleMs = 2500;
  text = await scrape();
  t.is(sample(text, 'tai_log_entries'), 1000);
  t.is(sample(text, 'tai_watch_staleness_seconds'), 2.5);
});

test('admissions, reconcile errors and threshold crossings are counted with bounded labels', async (t) => {
  const metrics = new ServerMetrics();
  metrics.observeAdmission({ operation: 'CREATE', kind: 'Deployment', allowed: true, reason: 'Allowed', seconds: 0.003 });
  metrics.observeAdmission({ operation: 'CREATE', kind: 'Deployment', allowed: false, reason: 'ResourceCapExceeded', seconds: 0.2 });
  metrics.observeAdmission({ operation: 'UPDATE', kind: 'Namespace', allowed: false, reason: 'TenantSuspended', seconds: 0.001 });
  metrics.reconcileError('Tenant');
  metrics.reconcileError('Tenant');
  metrics.thresholdCrossing({ metric: 'api-calls', threshold: 80 });
  const text = await metrics.metricsText();
  t.is(sample(text, 'tai_admission_reviews_total', { kind: 'Deployment', allowed: 'true', reason: 'Allowed' }), 1);
  t.is(sample(text, 'tai_admission_reviews_total', { kind: 'Deployment', allowed: 'false', reason: 'ResourceCapExceeded' }), 1);
  t.is(sample(text, 'tai_admission_duration_seconds_count', { operation: 'CREATE', kind: 'Deployment' }), 2);
  t.is(sample(text, 'tai_admission_duration_seconds_bucket', { operation: 'CREATE', kind: 'Deployment', le: '0.1' }), 1);
  t.is(sample(text, 'tai_admission_duration_seconds_bucket', { operation: 'UPDATE', kind: 'Namespace', le: '0.001' }), 1);
  t.is(sample(text, 'tai_reconcile_errors_total', { kind: 'Tenant' }), 2);
  t.is(sample(text, 'tai_threshold_crossings_total', { metric: 'api-calls', threshold: '80' }), 1);
});

test('each ServerMetrics has its own registry: two in one process do not collide, the global one stays empty', async (t) => {
  const a = new ServerMetrics({ defaultMetrics: true });
  const b = new ServerMetrics({ defaultMetrics: true });
  a.reconcileError('SKU');
  t.is(sample(await a.metricsText(), 'tai_reconcile_errors_total', { kind: 'SKU' }), 1);
  t.is(sample(await b.metricsText(), 'tai_reconcile_errors_total', { kind: 'SKU' }), undefined);
  t.regex(await a.metricsText(), /^process_cpu_user_seconds_total /m);
  t.false((await globalRegistry.metrics()).includes('tai_'));
});

test('meteredDecisions counts thrown and rejected calls as errors and keeps a synchronous service synchronous', async (t) => {
  const metrics = new ServerMetrics({ now: steppingClock() });
  const decision: RateDecision = { op: 'rate', tenant: 'acme', name: 'requests', cost: 1, allowed: false, reason: 'RateLimited', remaining: 0, retryAfterMs: 250 };
  const service: DecisionService = {
    check: () => {
      throw new DecisionInputError('feature', 'must not be empty');
    },
    consume: () => Promise.reject(new Error('log down')),
    rate: () => decision,
    batch: () => Promise.resolve([decision, decision]),
  };
  const metered = meteredDecisions(service, metrics);
  t.throws(() => metered.check({ tenant: 'acme', feature: '' }), { instanceOf: DecisionInputError });
  await t.throwsAsync(async () => metered.consume({ tenant: 'acme', metric: 'x', amount: 1 }), { message: 'log down' });
  t.is(metered.rate({ tenant: 'acme', name: 'requests' }), decision, 'the very answer, not a promise of it');
  t.deepEqual(await metered.batch([]), [decision, decision]);
  const text = await metrics.metricsText();
  t.is(sample(text, 'tai_decisions_total', { op: 'check', outcome: 'error', reason: 'DecisionInputError' }), 1);
  t.is(sample(text, 'tai_decisions_total', { op: 'consume', outcome: 'error', reason: 'Error' }), 1);
  t.is(sample(text, 'tai_decisions_total', { op: 'rate', outcome: 'denied', reason: 'RateLimited' }), 3);
  t.is(sample(text, 'tai_decision_duration_seconds_count', { op: 'check' }), 1, 'a failed call is timed too');
});

test('metricsApi alone on a Hono app', async (t) => {
  const metrics = new ServerMetrics();
  const app = new Hono().route('/', metricsApi(metrics));
  metrics.thresholdCrossing({ metric: 'seats', threshold: 100 });
  t.is(sample(await (await app.request('/metrics')).text(), 'tai_threshold_crossings_total', { metric: 'seats', threshold: '100' }), 1);
});
