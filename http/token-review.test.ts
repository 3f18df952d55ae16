import test from 'ava';
import type { KubeApi, RequestOptions } from '../kube/index.ts';
import { KubeApiError } from '../kube/index.ts';
import { AuthUnavailableError } from './auth.ts';
import { jwtExpiry, TOKEN_REVIEW_PATH, TokenReviewVerifier, type TokenReviewOptions } from './token-review.ts';

const T0 = Date.parse('2026-11-28T12:00:00Z');

interface Review {
  spec: { token: string; audiences?: string[] };
}

/**
 * An API server that knows some tokens. Requests wait for `release()` when `hold` is set, so concurrent
 * checks can be lined up; `fail` makes it answer as an overloaded server would.
 */
class FakeApi implements KubeApi {
  requests: { method: string; path: string; options?: RequestOptions }[] = [];
  users = new Map<string, { username: string; uid?: string; groups?: string[]; audiences?: string[] }>();
  fail: Error | undefined;
  hold = false;
  #waiting: (() => void)[] = [];

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options?: RequestOptions): Promise<T> {
    this.requests.push({ method, path, options });
    if (this.hold) await new Promise<void>((r) => this.#waiting.push(r));
    if (this.fail) throw this.fail;
    const { spec } = options!.body as Review;
    const user = this.users.get(spec.token);
    if (!user) return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', status: { authenticated: false, error: 'invalid bearer token' } } as T;
    const { audiences, ...info } = user;
    return { kind: 'TokenReview', status: { authenticated: true, user: info, audiences: audiences ?? ['https://kubernetes.default.svc'] } } as T;
  }

  release(): void {
    this.hold = false;
    for (const r of this.#waiting.splice(0)) r();
  }

  watch(): Promise<{ abort(): void }> {
    throw new Error('not used');
  }
}

function setup(opts: Partial<TokenReviewOptions> = {}) {
  const api = new FakeApi();
  api.users.set('sa-token', { username: 'system:serviceaccount:shop:checkout', uid: 'u-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop'] });
  const clock = { t: T0 };
  const verifier = new TokenReviewVerifier({ api, now: () => clock.t, ...opts });
  return { api, clock, verifier };
}

/** A JWT-shaped token (unsigned: only its claims are read) expiring at `exp` (ms). */
function jwt(exp: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part({ sub: 'system:serviceaccount:shop:checkout', exp: exp / 1000 })}.c2ln`;
}

test('posts an authentication.k8s.io/v1 TokenReview and answers its user', async (t) => {
  const { api, verifier } = setup();
  t.deepEqual(await verifier.verify('sa-token'), { name: 'system:serviceaccount:shop:checkout', uid: 'u-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop'] });
  t.is(api.requests.length, 1);
  t.like(api.requests[0], { method: 'POST', path: TOKEN_REVIEW_PATH });
  t.deepEqual(api.requests[0]!.options!.body, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'sa-token' } });
  t.is(api.requests[0]!.options!.timeoutMs, 5000);
  t.is(TOKEN_REVIEW_PATH, '/apis/authentication.k8s.io/v1/tokenreviews');
});

test('a valid token is answered from the cache until ttlMs, then reviewed again', async (t) => {
  const { api, clock, verifier } = setup({ ttlMs: 60_000 });
  await verifier.verify('sa-token');
  clock.t = T0 + 59_999;
  t.truthy(await verifier.verify('sa-token'));
  t.is(api.requests.length, 1, 'cache hit');
  clock.t = T0 + 60_000;
  t.truthy(await verifier.verify('sa-token'));
  t.is(api.requests.length, 2, 'expired: asked again');
});

test('a revoked token is rejected once its cached answer expires', async (t) => {
  const { api, clock, verifier } = setup();
  t.truthy(await verifier.verify('sa-token'));
  api.users.delete('sa-token');
  clock.t = T0 + 60_000;
  t.is(await verifier.verify('sa-token'), undefined);
});

test('a JWT is not trusted from the cache past its exp, even within ttlMs', async (t) => {
  const { api, clock, verifier } = setup({ ttlMs: 60_000 });
  const token = jwt(T0 + 5_000);
  api.users.set(token, { username: 'short-lived' });
  t.like(await verifier.verify(token), { name: 'short-lived' });
  clock.t = T0 + 4_999;
  await verifier.verify(token);
  t.is(api.requests.length, 1);
  clock.t = T0 + 5_000;
  await verifier.verify(token);
  t.is(api.requests.length, 2);
  t.is(jwtExpiry(token), T0 + 5_000);
  for (const notJwt of ['sa-token', 'a.b.c', `a.${Buffer.from('{"exp":"soon"}').toString('base64url')}.c`, 'a.b']) t.is(jwtExpiry(notJwt), undefined, notJwt);
});

test('a rejected token is cached for negativeTtlMs', async (t) => {
  const { api, clock, verifier } = setup({ negativeTtlMs: 10_000 });
  t.is(await verifier.verify('forged'), undefined);
  clock.t = T0 + 9_999;
  t.is(await verifier.verify('forged'), undefined);
  t.is(api.requests.length, 1, 'negative cache hit');
  api.users.set('forged', { username: 'now-valid' });
  clock.t = T0 + 10_000;
  t.like(await verifier.verify('forged'), { name: 'now-valid' });
  t.is(api.requests.length, 2);
});

test('concurrent checks of one token share one review; other tokens get their own', async (t) => {
  const { api, verifier } = setup();
  api.hold = true;
  const same = Array.from({ length: 20 }, () => verifier.verify('sa-token'));
  const other = verifier.verify('forged');
  await new Promise((r) => setImmediate(r));
  t.is(api.requests.length, 2);
  api.release();
  const answers = await Promise.all(same);
  t.true(answers.every((a) => a?.name === 'system:serviceaccount:shop:checkout'));
  t.is(await other, undefined);
  answers[0]!.groups.push('system:masters');
  t.deepEqual((await verifier.verify('sa-token'))!.groups, ['system:serviceaccounts', 'system:serviceaccounts:shop'], 'callers get copies');
  t.is(api.requests.length, 2);
});

test('an API server failure is AuthUnavailableError for every waiter, and is not cached', async (t) => {
  const { api, verifier } = setup();
  api.fail = new KubeApiError(503, 'ServiceUnavailable', 'POST /apis/authentication.k8s.io/v1/tokenreviews: 503');
  api.hold = true;
  const waiting = [verifier.verify('sa-token'), verifier.verify('sa-token')];
  await new Promise((r) => setImmediate(r));
  api.release();
  for (const w of waiting) {
    const error = await t.throwsAsync(w, { instanceOf: AuthUnavailableError });
    t.is((error.cause as KubeApiError).status, 503);
  }
  t.is(api.requests.length, 1);
  t.is(verifier.size, 0);
  api.fail = undefined;
  t.truthy(await verifier.verify('sa-token'), 'the next check asks again at once');
  t.is(api.requests.length, 2);
});

test('a forbidden review (missing RBAC) and an answer without status are unavailable, not invalid', async (t) => {
  const { api, verifier } = setup();
  api.fail = new KubeApiError(403, 'Forbidden', 'tokenreviews.authentication.k8s.io is forbidden');
  await t.throwsAsync(verifier.verify('sa-token'), { instanceOf: AuthUnavailableError });
  const empty = new TokenReviewVerifier({ api: { request: async <T>() => ({ kind: 'Status' }) as T, watch: () => Promise.reject(new Error('not used')) }, now: () => T0 });
  await t.throwsAsync(empty.verify('sa-token'), { instanceOf: AuthUnavailableError, message: /without a status/ });
});

test('audiences are sent, and an answer for another audience is a rejection', async (t) => {
  const { api, verifier } = setup({ audiences: ['tai'] });
  api.users.set('tai-token', { username: 'tai-caller', audiences: ['tai'] });
  t.like(await verifier.verify('tai-token'), { name: 'tai-caller' });
  t.deepEqual((api.requests[0]!.options!.body as Review).spec, { token: 'tai-token', audiences: ['tai'] });
  t.is(await verifier.verify('sa-token'), undefined, 'the fake answers the API server audience only');
});

test('the cache is bounded, the least recently used going first', async (t) => {
  const { api, verifier } = setup({ maxEntries: 3 });
  for (const token of ['a', 'b', 'c']) await verifier.verify(token);
  await verifier.verify('a'); // a is now the most recently used
  await verifier.verify('d'); // pushes out b
  t.is(verifier.size, 3);
  t.is(api.requests.length, 4);
  await verifier.verify('a');
  await verifier.verify('c');
  t.is(api.requests.length, 4, 'a and c still cached');
  await verifier.verify('b');
  t.is(api.requests.length, 5, 'b was evicted');
});
