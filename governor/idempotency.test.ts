import test from 'ava';
import { IDEMPOTENCY_TTL_MS, IdempotencyCache } from './idempotency.ts';

const T = 1_000_000;

test('the first value stored is returned, the same object, until the TTL ends', (t) => {
  const cache = new IdempotencyCache<{ n: number }>();
  const first = { n: 1 };
  t.is(cache.remember('acme', 'k', first, T), first);
  t.is(cache.remember('acme', 'k', { n: 2 }, T + 1), first, 'a second value does not replace the first');
  t.is(cache.get('acme', 'k', T + IDEMPOTENCY_TTL_MS - 1), first);
  t.is(cache.get('acme', 'k', T + IDEMPOTENCY_TTL_MS), undefined);
});

test('keys are scoped per tenant, with no way to forge another tenant\'s key', (t) => {
  const cache = new IdempotencyCache<string>();
  cache.remember('acme', 'k', 'acme', T);
  t.is(cache.get('globex', 'k', T), undefined);
  cache.remember('a', 'b:c', 'x', T);
  t.is(cache.get('a:b', 'c', T), undefined);
});

test('expired entries are pruned incrementally in insertion order', (t) => {
  const cache = new IdempotencyCache<number>({ ttlMs: 1000 });
  for (let i = 0; i < 200; i++) cache.remember('acme', `k${i}`, i, T + i);
  t.is(cache.size, 200);
  cache.get('acme', 'none', T + 1000 + 9); // entries 0..9 have expired
  t.is(cache.size, 190);
  cache.get('acme', 'none', T + 5000); // all expired: at most 64 pruned per call
  t.is(cache.size, 126);
  cache.get('acme', 'none', T + 5000);
  cache.get('acme', 'none', T + 5000);
  t.is(cache.size, 0);
});

test('an expired key can be stored again', (t) => {
  const cache = new IdempotencyCache<string>({ ttlMs: 1000 });
  cache.remember('acme', 'k', 'old', T);
  t.is(cache.remember('acme', 'k', 'new', T + 1000), 'new');
  t.is(cache.get('acme', 'k', T + 1500), 'new');
});

test('memory stays bounded: past maxKeys the oldest keys are forgotten', (t) => {
  const cache = new IdempotencyCache<number>({ maxKeys: 3 });
  for (let i = 0; i < 5; i++) cache.remember('acme', `k${i}`, i, T);
  t.is(cache.size, 3);
  t.is(cache.get('acme', 'k1', T), undefined);
  t.is(cache.get('acme', 'k4', T), 4);
});

test('replace swaps the value stored only while it is still the one given, keeping its expiry', (t) => {
  const cache = new IdempotencyCache<{ n: number; note?: string }>();
  const first = { n: 1 };
  cache.remember('acme', 'k', first, T);
  t.false(cache.replace('acme', 'k', { n: 1 }, { n: 3 }), 'an equal object is not the stored one');
  t.false(cache.replace('acme', 'other', first, { n: 3 }));
  const richer = { ...first, note: 'recorded' };
  t.true(cache.replace('acme', 'k', first, richer));
  t.deepEqual(first, { n: 1 }, 'the stored object itself is not changed');
  t.is(cache.get('acme', 'k', T + IDEMPOTENCY_TTL_MS - 1), richer);
  t.is(cache.get('acme', 'k', T + IDEMPOTENCY_TTL_MS), undefined);
});
