import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledPolicy, Governor, PolicyCompiler } from '../governor/index.ts';
import { quotaOf, skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { ReceiptLog } from '../receipts/store/index.ts';
import { createApp } from '../http/app.ts';
import { appOver } from '../http/app.test-helper.ts';
import type { Readiness } from '../readiness/index.ts';
import { RecordedGovernor } from '../recording/recorded-governor.ts';
import { TaiClient, TaiProblemError, TaiResponseError, type FetchLike } from './index.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const RESOURCES = [
  skuOf('growth', {
    features: { sso: true, seats: 5, region: 'eu' },
    quotas: { 'api-calls': { limit: 10 }, seats: { limit: 3, kind: 'gauge' } },
    rates: { requests: { perSecond: 1, burst: 2 } },
    resources: { 'count/pods': 20 },
  }),
  tenantOf('acme', { sku: 'growth', billingAnchor: '2026-01-15T00:00:00Z', overrides: { quotas: { 'api-calls': { limit: 20 } } } }),
  tenantOf('umbrella', { sku: 'growth', suspended: true }),
  quotaOf('bf', { tenant: 'acme', metric: 'api-calls', limit: 5 }),
];
const BASE = 'http://tai.test';

/** A client over the app of app.test-helper.ts (no receipts), through app.request: no socket. */
function plainClient(opts: { maxBodyBytes?: number } = {}): TaiClient {
  const { app } = appOver(RESOURCES, { now: NOW, ...opts });
  return new TaiClient({ baseUrl: BASE, fetch: (input, init) => app.request(input, init) });
}

/** A client over the app as `tai serve` assembles it: every decision recorded in a receipt log in a temp folder. */
async function recordedClient(t: ExecutionContext, readiness: Partial<Readiness> = {}): Promise<TaiClient> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-client-'));
  const clock = { now: () => NOW };
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  t.teardown(async () => {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: RESOURCES }, NOW);
  const policy = new CompiledPolicy(compiler);
  const app = createApp({
    decisions: new RecordedGovernor(new Governor({ policy, clock }), log),
    tenant: (n) => policy.tenant(n, NOW),
    readiness: () => ({ ready: true, generation: 3, tenants: 2, problems: 0, staleMs: 0, source: 'test', ...readiness }),
  });
  return new TaiClient({ baseUrl: `${BASE}/`, fetch: (input, init) => app.request(input, init) });
}

const HEX64 = /^[0-9a-f]{64}$/;

test('check: allowed with the value, and each denial reason; every answer carries its receipt', async (t) => {
  const tai = await recordedClient(t);
  const sso = await tai.check({ tenant: 'acme', feature: 'sso' });
  t.like(sso, { op: 'check', allowed: true, reason: 'Allowed', value: true, receipt: { index: 0 } });
  t.regex(sso.receipt!.leafHash, HEX64);
  t.regex(sso.policy!, HEX64);
  t.like(await tai.check({ tenant: 'acme', feature: 'region' }), { allowed: true, value: 'eu', receipt: { index: 1 } });
  t.like(await tai.check({ tenant: 'acme', feature: 'nope' }), { allowed: false, reason: 'FeatureNotEntitled' });
  t.like(await tai.check({ tenant: 'umbrella', feature: 'sso' }), { allowed: false, reason: 'TenantSuspended' });
  const unknown = await tai.check({ tenant: 'nobody', feature: 'sso' });
  t.like(unknown, { allowed: false, reason: 'UnknownTenant', receipt: { index: 4 } });
  t.is(unknown.policy, undefined);
});

test('consume: counts to the limit, denies with QuotaExceeded, and a replay returns the first answer and receipt', async (t) => {
  const tai = await recordedClient(t);
  const first = await tai.consume({ tenant: 'acme', metric: 'api-calls', amount: 20, idempotencyKey: 'req-7' });
  t.like(first, { allowed: true, reason: 'Allowed', used: 20, limit: 25, remaining: 5, resetsAt: '2026-12-01T00:00:00Z' });
  t.like(await tai.consume({ tenant: 'acme', metric: 'api-calls', amount: 6 }), { allowed: false, reason: 'QuotaExceeded', used: 20, remaining: 5 });
  t.deepEqual(await tai.consume({ tenant: 'acme', metric: 'api-calls', amount: 20, idempotencyKey: 'req-7' }), first);
  t.like(await tai.consume({ tenant: 'acme', metric: 'seats', amount: 2 }), { allowed: true, used: 2, limit: 3, resetsAt: null, windowStart: null });
  t.like(await tai.consume({ tenant: 'acme', metric: 'nope', amount: 1 }), { allowed: false, reason: 'UnknownMetric', used: 0 });
});

test('rate: tokens run out, then RateLimited with retryAfterMs', async (t) => {
  const tai = plainClient();
  t.like(await tai.rate({ tenant: 'acme', name: 'requests' }), { allowed: true, reason: 'Allowed', cost: 1, remaining: 1 });
  t.like(await tai.rate({ tenant: 'acme', name: 'requests', cost: 1 }), { allowed: true, remaining: 0 });
  t.like(await tai.rate({ tenant: 'acme', name: 'requests' }), { allowed: false, reason: 'RateLimited', retryAfterMs: 1000 });
  t.like(await tai.rate({ tenant: 'acme', name: 'requests', cost: 3 }), { allowed: false, retryAfterMs: -1 });
});

test('batch: answers in order, each with its own receipt', async (t) => {
  const tai = await recordedClient(t);
  const { results } = await tai.batch({
    decisions: [
      { op: 'check', tenant: 'acme', feature: 'sso' },
      { op: 'consume', tenant: 'acme', metric: 'seats', amount: 3 },
      { op: 'consume', tenant: 'acme', metric: 'seats', amount: 1 },
      { op: 'rate', tenant: 'acme', name: 'requests' },
    ],
  });
  t.deepEqual(
    results.map((r) => [r.op, r.allowed, r.reason, r.receipt?.index]),
    [
      ['check', true, 'Allowed', 0],
      ['consume', true, 'Allowed', 1],
      ['consume', false, 'QuotaExceeded', 2],
      ['rate', true, 'Allowed', 3],
    ],
  );
  const third = results[2]!;
  t.is(third.op === 'consume' ? third.used : undefined, 3);
});

test('entitlements: values, provenance with explain, and a 404 problem for an unknown tenant', async (t) => {
  const tai = plainClient();
  const plain = await tai.entitlements('acme');
  t.like(plain, { tenant: 'acme', sku: 'growth', suspended: false, billingAnchor: '2026-01-15T00:00:00.000Z', features: { sso: true, seats: 5, region: 'eu' } });
  t.like(plain.quotas['api-calls'], { limit: 25, kind: 'counter', window: 'month', enforcement: 'hard' });
  t.deepEqual(plain.rates['requests'], { perSecond: 1, burst: 2 });
  t.is(plain.resources['count/pods'], '20');
  const explained = await tai.entitlements('acme', { explain: true });
  t.is(explained.quotas['api-calls']!.explain, 'api-calls limit 25 = SKU/growth 10, Tenant/acme overrides 20, Quota/bf +5');
  t.deepEqual(explained.quotas['api-calls']!.trace.map((s) => s.op), ['set', 'set', 'add']);
  t.is(explained.digest, plain.digest);
  const missing = await t.throwsAsync(tai.entitlements('no/body'), { instanceOf: TaiProblemError });
  t.like(missing, { status: 404, type: 'https://tai.dev/problems/unknown-tenant', title: 'No such tenant', detail: 'tenant "no/body" is not defined', endpoint: 'GET /v1/tenants/no%2Fbody/entitlements' });
});

test('malformed requests throw the server problem: 400 names the field, 413 the limit', async (t) => {
  const tai = plainClient({ maxBodyBytes: 200 });
  const missing = await t.throwsAsync(tai.check({ tenant: 'acme' } as never), { instanceOf: TaiProblemError });
  t.like(missing, { status: 400, type: 'https://tai.dev/problems/invalid-request', endpoint: 'POST /v1/check' });
  t.regex(missing.detail, /^feature: /);
  const fractional = await t.throwsAsync(tai.consume({ tenant: 'acme', metric: 'api-calls', amount: 1.5 }), { instanceOf: TaiProblemError });
  t.like(fractional, { status: 400 });
  t.regex(fractional.detail, /amount/);
  t.regex(fractional.message, /POST \/v1\/consume answered 400 The request is malformed: .*amount/);
  const big = { decisions: Array.from({ length: 20 }, () => ({ op: 'check' as const, tenant: 'acme', feature: 'sso' })) };
  const tooLarge = await t.throwsAsync(tai.batch(big), { instanceOf: TaiProblemError });
  t.like(tooLarge, { status: 413, type: 'https://tai.dev/problems/payload-too-large', detail: 'request bodies are limited to 200 bytes' });
});

test('healthz, readyz (a 503 is an answer) and openapi', async (t) => {
  t.deepEqual(await plainClient().healthz(), { status: 'ok' });
  t.like(await (await recordedClient(t)).readyz(), { status: 'ready', ready: true, generation: 3, tenants: 2 });
  const notReady = await (await recordedClient(t, { ready: false, generation: 0, staleMs: 1500 })).readyz();
  t.like(notReady, { status: 'not ready', ready: false, staleMs: 1500 });
  const doc = await plainClient().openapi();
  t.is(doc.openapi, '3.1.0');
  t.true('/v1/tenants/{name}/entitlements' in doc.paths);
});

/** A fetch that records what it was asked and answers `res`. */
function fakeFetch(res: () => Response): { fetch: FetchLike; seen: { url: string; init: RequestInit }[] } {
  const seen: { url: string; init: RequestInit }[] = [];
  return { seen, fetch: (url, init) => (seen.push({ url, init }), res()) };
}

test('the request: base path kept, bearer token, JSON content type, extra headers', async (t) => {
  const answer = { op: 'check', tenant: 'acme', feature: 'sso', allowed: true, reason: 'Allowed', future: 'fields are tolerated' };
  const { fetch, seen } = fakeFetch(() => Response.json(answer));
  const tai = new TaiClient({ baseUrl: 'https://gw.example/tai/', token: 's3cret', headers: { 'x-request-id': 'r1' }, fetch });
  t.like(await tai.check({ tenant: 'acme', feature: 'sso' }), { allowed: true });
  t.is(seen[0]!.url, 'https://gw.example/tai/v1/check');
  t.is(seen[0]!.init.method, 'POST');
  t.is(seen[0]!.init.body, '{"tenant":"acme","feature":"sso"}');
  t.like(seen[0]!.init.headers, { authorization: 'Bearer s3cret', 'content-type': 'application/json', 'x-request-id': 'r1' });
  for (const baseUrl of ['localhost:8080', '/tai', 'ftp://tai.test']) t.throws(() => new TaiClient({ baseUrl }), { instanceOf: TypeError, message: /absolute http\(s\) URL/ });
});

test('a drifted answer throws a TaiResponseError naming the endpoint and the field', async (t) => {
  const drifted = { op: 'check', tenant: 'acme', feature: 'sso', allowed: true, reason: 'Permitted' };
  const bad = new TaiClient({ baseUrl: BASE, fetch: fakeFetch(() => Response.json(drifted)).fetch });
  const error = await t.throwsAsync(bad.check({ tenant: 'acme', feature: 'sso' }), { instanceOf: TaiResponseError });
  t.like(error, { endpoint: 'POST /v1/check', field: 'reason' });
  t.regex(error.message, /^POST \/v1\/check answered a body .*reason: /);
  const batch = new TaiClient({ baseUrl: BASE, fetch: fakeFetch(() => Response.json({ results: [{ ...drifted, reason: 'Allowed', allowed: 'yes' }] })).fetch });
  t.like(await t.throwsAsync(batch.batch({ decisions: [{ op: 'check', tenant: 'acme', feature: 'sso' }] })), { field: 'results[0].allowed' });
  const html = new TaiClient({ baseUrl: BASE, fetch: fakeFetch(() => new Response('<html>ok</html>')).fetch });
  t.like(await t.throwsAsync(html.healthz()), { name: 'TaiResponseError', field: '(body)' });
});

test('an error that is not a problem document still throws a TaiProblemError', async (t) => {
  const gateway = new TaiClient({ baseUrl: BASE, fetch: fakeFetch(() => new Response('<h1>Bad Gateway</h1>', { status: 502, statusText: 'Bad Gateway' })).fetch });
  const error = await t.throwsAsync(gateway.readyz(), { instanceOf: TaiProblemError });
  t.like(error, { status: 502, type: 'about:blank', title: 'Bad Gateway', detail: '<h1>Bad Gateway</h1>' });
});
