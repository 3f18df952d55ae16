// A known path asked with a method it does not answer is 405 problem+json with Allow (RFC 9110 §15.5.6).
import test from 'ava';
import { appOver } from './app.test-helper.ts';

const { app } = appOver([], { now: 0 });

const cases: [method: string, path: string, allow: string][] = [
  ['PUT', '/v1/check', 'POST'],
  ['GET', '/v1/consume', 'POST'],
  ['DELETE', '/v1/batch', 'POST'],
  ['PATCH', '/v1/tenants/acme/entitlements', 'GET, HEAD'],
  ['POST', '/healthz', 'GET, HEAD'],
  ['DELETE', '/readyz', 'GET, HEAD'],
  ['PUT', '/openapi.json', 'GET, HEAD'],
  ['PROPFIND', '/v1/rate', 'POST'],
];

for (const [method, path, allow] of cases) {
  test(`${method} ${path} → 405 problem+json, Allow: ${allow}`, async (t) => {
    const res = await app.request(path, { method });
    t.is(res.status, 405);
    t.is(res.headers.get('allow'), allow);
    t.is(res.headers.get('content-type'), 'application/problem+json');
    t.like(await res.json(), { type: 'https://tai.dev/problems/method-not-allowed', status: 405, instance: path });
  });
}

test('OPTIONS on a known path answers 204 with Allow; an unknown path stays 404 whatever the method', async (t) => {
  const options = await app.request('/v1/check', { method: 'OPTIONS' });
  t.is(options.status, 204);
  t.is(options.headers.get('allow'), 'POST');
  for (const method of ['GET', 'PUT', 'OPTIONS']) {
    const res = await app.request('/v1/nothing-here', { method });
    t.is(res.status, 404, method);
    t.is(res.headers.get('allow'), null, method);
  }
  t.is((await app.request('/v1/tenants/a/b/entitlements', { method: 'PUT' })).status, 404, 'a parameter is one segment');
});
