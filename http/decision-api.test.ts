import test from 'ava';
import { quotaOf, skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { appOver } from './app.test-helper.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');

function setup(opts: { maxBodyBytes?: number } = {}) {
  const { app, errors } = appOver(
    [
      skuOf('growth', { features: { sso: true, seats: 5 }, quotas: { 'api-calls': { limit: 10 }, seats: { limit: 3, kind: 'gauge' } }, rates: { requests: { perSecond: 1, burst: 2 } } }),
      tenantOf('acme', { sku: 'growth', overrides: { quotas: { 'api-calls': { limit: 20 } } } }),
      tenantOf('umbrella', { sku: 'growth', suspended: true }),
      quotaOf('bf', { tenant: 'acme', metric: 'api-calls', limit: 5 }),
    ],
    { now: NOW, ...opts },
  );
  const post = (path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.request(path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { app, post, errors };
}

test('check answers the wire shape of design §4', async (t) => {
  const { post } = setup();
  const res = await post('/v1/check', { tenant: 'acme', feature: 'sso' });
  t.is(res.status, 200);
  t.like(await res.json(), { allowed: true, reason: 'Allowed', value: true });
  t.like(await (await post('/v1/check', { tenant: 'nobody', feature: 'sso' })).json(), { allowed: false, reason: 'UnknownTenant' });
  t.like(await (await post('/v1/check', { tenant: 'umbrella', feature: 'sso' })).json(), { allowed: false, reason: 'TenantSuspended' });
  t.like(await (await post('/v1/check', { tenant: 'acme', feature: 'nope' })).json(), { allowed: false, reason: 'FeatureNotEntitled' });
});

test('consume counts to the limit, then denies with QuotaExceeded; replays return the first answer', async (t) => {
  const { post } = setup();
  const first = await (await post('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 20, idempotencyKey: 'k1' })).json();
  t.like(first, { allowed: true, reason: 'Allowed', used: 20, limit: 25, remaining: 5, resetsAt: '2026-12-01T00:00:00.000Z'.replace('.000', '') });
  const denied = await (await post('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 6 })).json();
  t.like(denied, { allowed: false, reason: 'QuotaExceeded', used: 20, limit: 25 });
  t.deepEqual(await (await post('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 20, idempotencyKey: 'k1' })).json(), first);
  t.like(await (await post('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 0 })).json(), { used: 20, allowed: true });
});

test('rate answers remaining and retryAfterMs', async (t) => {
  const { post } = setup();
  const body = { tenant: 'acme', name: 'requests' };
  t.like(await (await post('/v1/rate', body)).json(), { allowed: true, remaining: 1 });
  t.like(await (await post('/v1/rate', body)).json(), { allowed: true, remaining: 0 });
  t.like(await (await post('/v1/rate', body)).json(), { allowed: false, reason: 'RateLimited', retryAfterMs: 1000 });
});

test('batch answers in order', async (t) => {
  const { post } = setup();
  const res = await post('/v1/batch', {
    decisions: [
      { op: 'check', tenant: 'acme', feature: 'sso' },
      { op: 'consume', tenant: 'acme', metric: 'seats', amount: 3 },
      { op: 'consume', tenant: 'acme', metric: 'seats', amount: 1 },
      { op: 'rate', tenant: 'acme', name: 'requests' },
    ],
  });
  const { results } = (await res.json()) as { results: { op: string; allowed: boolean }[] };
  t.deepEqual(results.map((r) => [r.op, r.allowed]), [['check', true], ['consume', true], ['consume', false], ['rate', true]]);
});

test('entitlements: values, and provenance with ?explain=1', async (t) => {
  const { app } = setup();
  const plain = (await (await app.request('/v1/tenants/acme/entitlements')).json()) as { quotas: Record<string, { limit: number }> };
  t.is(plain.quotas['api-calls']!.limit, 25);
  const explained = (await (await app.request('/v1/tenants/acme/entitlements?explain=1')).json()) as { quotas: Record<string, { explain: string }> };
  t.is(explained.quotas['api-calls']!.explain, 'api-calls limit 25 = SKU/growth 10, Tenant/acme overrides 20, Quota/bf +5');
  const missing = await app.request('/v1/tenants/nobody/entitlements');
  t.is(missing.status, 404);
  t.is(missing.headers.get('content-type'), 'application/problem+json');
});

test('entitlements: explain other than 1 is a 400 naming the parameter (found by schemathesis: ?explain=AAA answered 200)', async (t) => {
  const { app } = setup();
  for (const query of ['explain=AAA', 'explain=0', 'explain=', 'explain=1&explain=1']) {
    const res = await app.request(`/v1/tenants/acme/entitlements?${query}`);
    t.is(res.status, 400, query);
    t.like(await res.json(), { type: 'https://tai.dev/problems/invalid-request' }, query);
  }
});

const malformed: [string, string, unknown, string | undefined, number, RegExp][] = [
  ['not JSON', '/v1/check', '{"tenant":', undefined, 400, /not valid JSON/],
  ['wrong content type', '/v1/check', '{}', 'text/plain', 415, /content-type/],
  ['missing field', '/v1/check', { tenant: 'acme' }, undefined, 400, /feature/],
  ['unknown field', '/v1/check', { tenant: 'acme', feature: 'x', extra: 1 }, undefined, 400, /extra/],
  ['fractional amount', '/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 1.5 }, undefined, 400, /amount/],
  ['amount past 2^53', '/v1/consume', '{"tenant":"acme","metric":"api-calls","amount":9007199254740993}', undefined, 400, /amount/],
  ['negative counter amount', '/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: -1 }, undefined, 400, /amount/],
  ['array body', '/v1/rate', [], undefined, 400, /body|expected/],
  ['bad batch op', '/v1/batch', { decisions: [{ op: 'delete', tenant: 'a' }] }, undefined, 400, /decisions\[0\]/],
  ['bad batch item amount', '/v1/batch', { decisions: [{ op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 0.5 }] }, undefined, 400, /decisions\[0\]\.amount/],
];
for (const [name, path, body, type, status, detail] of malformed) {
  test(`malformed request: ${name} → ${status} problem+json`, async (t) => {
    const { post, errors } = setup();
    const res = await post(path, body, { 'content-type': type ?? 'application/json' });
    t.is(res.status, status);
    t.is(res.headers.get('content-type'), 'application/problem+json');
    const p = (await res.json()) as { detail: string; status: number; type: string };
    t.is(p.status, status);
    t.regex(p.detail, detail);
    t.deepEqual(errors, []);
  });
}

test('a denied batch item counts nothing, and a malformed batch decides nothing', async (t) => {
  const { post } = setup();
  await post('/v1/batch', { decisions: [{ op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 5 }, { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 1.5 }] });
  t.like(await (await post('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 0 })).json(), { used: 0 });
});

test('oversized bodies get 413', async (t) => {
  const { post } = setup({ maxBodyBytes: 100 });
  const res = await post('/v1/check', { tenant: 'acme', feature: 'x'.repeat(200) });
  t.is(res.status, 413);
});

test('unknown routes get 404 problem+json; health endpoints answer', async (t) => {
  const { app } = setup();
  t.is((await app.request('/v2/nothing')).status, 404);
  t.like(await (await app.request('/healthz')).json(), { status: 'ok' });
  t.like(await (await app.request('/readyz')).json(), { ready: true, tenants: 2 });
});
