import test from 'ava';
import { Hono } from 'hono';
import { AuthUnavailableError, bearerAuth, type AuthEnv, type Principal, type TokenVerifier } from './auth.ts';
import type { Problem } from './problem.ts';

const problemOf = async (res: Response): Promise<Problem> => (await res.json()) as Problem;

const alice: Principal = { name: 'alice', uid: '1001', groups: ['tai:callers'] };

/** Knows one token; `down` makes it fail as an unreachable API server would. */
function fakeVerifier(): TokenVerifier & { down: boolean; seen: string[] } {
  return {
    down: false,
    seen: [],
    async verify(token) {
      this.seen.push(token);
      if (this.down) throw new AuthUnavailableError('the Kubernetes API server did not answer the TokenReview', { cause: new Error('connect ECONNREFUSED 10.0.0.1:443') });
      return token === 'good-token' ? alice : undefined;
    },
  };
}

function setup(opts: { realm?: string } = {}) {
  const verifier = fakeVerifier();
  const unavailable: unknown[] = [];
  const app = new Hono<AuthEnv>();
  app.use('/v1/*', bearerAuth({ verifier, onUnavailable: (e) => unavailable.push(e), ...opts }));
  app.get('/v1/whoami', (c) => c.json(c.get('principal')));
  app.get('/healthz', (c) => c.text('ok'));
  const get = (authorization?: string) => app.request('/v1/whoami', { headers: authorization === undefined ? {} : { authorization } });
  return { app, verifier, unavailable, get };
}

test('a valid bearer token reaches the handler with its principal', async (t) => {
  const { get, verifier } = setup();
  const res = await get('Bearer good-token');
  t.is(res.status, 200);
  t.deepEqual(await res.json(), alice);
  t.deepEqual(verifier.seen, ['good-token']);
  t.is((await get('bearer   good-token')).status, 200, 'the scheme is case-insensitive, spaces before the token are allowed');
});

test('no Authorization header: 401 problem+json with a bare Bearer challenge, verifier not asked', async (t) => {
  const { get, verifier } = setup();
  const res = await get();
  t.is(res.status, 401);
  t.is(res.headers.get('content-type'), 'application/problem+json');
  t.is(res.headers.get('www-authenticate'), 'Bearer realm="tai"');
  t.like(await res.json(), { type: 'https://tai.dev/problems/unauthorized', status: 401, instance: '/v1/whoami' });
  t.deepEqual(verifier.seen, []);
});

test('a malformed Authorization header is a 401 without asking the verifier', async (t) => {
  const { get, verifier } = setup();
  for (const header of ['Basic YWxpY2U6cHc=', 'Bearer', 'Bearer ', 'Bearer two tokens', 'Bearer tok"en', 'Bearergood-token', '']) {
    const res = await get(header);
    t.is(res.status, 401, header);
    t.is(res.headers.get('www-authenticate'), 'Bearer realm="tai"', header);
    t.regex((await problemOf(res)).detail, /Bearer <token>/, header);
  }
  t.deepEqual(verifier.seen, []);
});

test('a token the verifier rejects: 401 with error="invalid_token"', async (t) => {
  const { get } = setup({ realm: 'tai-decisions' });
  const res = await get('Bearer stolen-token');
  t.is(res.status, 401);
  t.is(res.headers.get('www-authenticate'), 'Bearer realm="tai-decisions", error="invalid_token"');
  t.like(await res.json(), { type: 'https://tai.dev/problems/unauthorized', detail: 'the bearer token is not valid (unknown, expired or revoked)' });
});

test('a verifier that cannot decide: 503 auth-unavailable, not 401; the cause goes to onUnavailable only', async (t) => {
  const { get, verifier, unavailable } = setup();
  verifier.down = true;
  const res = await get('Bearer good-token');
  t.is(res.status, 503);
  t.is(res.headers.get('www-authenticate'), null);
  const body = await problemOf(res);
  t.like(body, { type: 'https://tai.dev/problems/auth-unavailable', status: 503 });
  t.regex(body.detail, /did not answer the TokenReview.*retry/);
  t.notRegex(body.detail, /10\.0\.0\.1/, 'internal addresses stay in the log');
  t.is(unavailable.length, 1);
  verifier.down = false;
  t.is((await get('Bearer good-token')).status, 200);
});

test('any verifier error is a 503, never a pass', async (t) => {
  const app = new Hono<AuthEnv>();
  app.use(bearerAuth({ verifier: { verify: () => Promise.reject(new TypeError('boom')) } }));
  app.get('/', (c) => c.text('through'));
  const res = await app.request('/', { headers: { authorization: 'Bearer x' } });
  t.is(res.status, 503);
  t.regex((await problemOf(res)).detail, /verifier failed/);
});

test('routes outside the middleware stay open; a realm that cannot be quoted is refused', async (t) => {
  const { app } = setup();
  t.is((await app.request('/healthz')).status, 200);
  t.throws(() => bearerAuth({ verifier: fakeVerifier(), realm: 'a"b' }), { message: /realm/ });
});
