import test from 'ava';
import { NEVER_RETRY_AFTER_MS, RateBuckets, TokenBucket } from './rate-bucket.ts';

const T = 1_000_000;

test('a new bucket is full and takes up to its burst', (t) => {
  const bucket = new TokenBucket({ perSecond: 10, burst: 20 }, T);
  t.deepEqual(bucket.take(1, T), { allowed: true, remaining: 19, retryAfterMs: 0 });
  t.deepEqual(bucket.take(19, T), { allowed: true, remaining: 0, retryAfterMs: 0 });
  t.false(bucket.take(1, T).allowed);
});

test('refills continuously over time, capped at the burst', (t) => {
  const bucket = new TokenBucket({ perSecond: 10, burst: 20 }, T);
  bucket.take(20, T);
  t.is(bucket.tokens(T + 250), 2.5);
  t.deepEqual(bucket.take(2, T + 250), { allowed: true, remaining: 0, retryAfterMs: 0 });
  t.is(bucket.tokens(T + 250), 0.5);
  t.is(bucket.tokens(T + 3_600_000), 20, 'never above the burst');
});

test('a denied take consumes nothing', (t) => {
  const bucket = new TokenBucket({ perSecond: 10, burst: 20 }, T);
  bucket.take(15, T);
  const denied = bucket.take(6, T);
  t.false(denied.allowed);
  t.is(denied.remaining, 5);
  t.is(bucket.tokens(T), 5);
  t.true(bucket.take(5, T).allowed);
});

test('retryAfterMs is the exact time until cost tokens exist, rounded up', (t) => {
  const bucket = new TokenBucket({ perSecond: 3, burst: 10 }, T);
  bucket.take(10, T);
  const denied = bucket.take(1, T);
  t.is(denied.retryAfterMs, 334); // 1 token at 3/s = 333.33 ms
  t.false(bucket.take(1, T + 333).allowed);
  t.true(bucket.take(1, T + 334).allowed);
  // 0.002 tokens left; 2 tokens need 1.998 / 3 s = 666 ms.
  t.is(bucket.take(2, T + 334).retryAfterMs, 666);
  t.true(bucket.take(2, T + 334 + 666).allowed);
});

test('a cost above the burst can never pass: retryAfterMs -1, nothing consumed', (t) => {
  const bucket = new TokenBucket({ perSecond: 10, burst: 20 }, T);
  t.deepEqual(bucket.take(21, T + 60_000), { allowed: false, remaining: 20, retryAfterMs: NEVER_RETRY_AFTER_MS });
  t.is(bucket.tokens(T + 60_000), 20);
});

test('time going backwards refills nothing', (t) => {
  const bucket = new TokenBucket({ perSecond: 10, burst: 20 }, T);
  bucket.take(20, T);
  t.is(bucket.tokens(T - 5000), 0);
  t.is(bucket.tokens(T + 100), 1);
});

test('a snapshot swap keeps the tokens, clamped to the new burst, and refills at the new rate', (t) => {
  const buckets = new RateBuckets();
  const take = (cost: number, now: number, perSecond: number, burst: number) =>
    buckets.take({ tenant: 'acme', name: 'requests', rate: { perSecond, burst }, cost, now });
  t.is(take(5, T, 10, 100).remaining, 95);
  t.is(take(0, T, 10, 50).remaining, 50, 'clamped to the smaller burst');
  t.is(take(50, T, 10, 50).remaining, 0);
  // The second before the swap refills at the old rate (10/s); the tokens are not raised to the new burst.
  t.is(take(0, T + 1000, 100, 500).remaining, 10);
  t.is(take(0, T + 2000, 100, 500).remaining, 110, 'after the swap, 100/s');
});

test('buckets are per tenant and name', (t) => {
  const buckets = new RateBuckets();
  const rate = { perSecond: 1, burst: 1 };
  t.true(buckets.take({ tenant: 'acme', name: 'requests', rate, cost: 1, now: T }).allowed);
  t.false(buckets.take({ tenant: 'acme', name: 'requests', rate, cost: 1, now: T }).allowed);
  t.true(buckets.take({ tenant: 'acme', name: 'uploads', rate, cost: 1, now: T }).allowed);
  t.true(buckets.take({ tenant: 'globex', name: 'requests', rate, cost: 1, now: T }).allowed);
});
