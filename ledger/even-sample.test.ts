import test from 'ava';
import fc from 'fast-check';
import { EvenSample } from './even-sample.ts';

test('few items: all of them, in order', (t) => {
  const s = new EvenSample<number>(8);
  for (const i of [3, 1, 4]) s.offer(i);
  t.deepEqual(s.pick(5), [3, 1, 4]);
  t.deepEqual(new EvenSample<number>().pick(5), []);
});

test('a million items in bounded memory: first, last, and evenly between', (t) => {
  const s = new EvenSample<number>(256);
  for (let i = 0; i < 1_000_000; i++) s.offer(i);
  t.is(s.seen, 1_000_000);
  t.deepEqual(s.pick(5), [0, 249856, 499712, 749568, 999999]);
});

test('any length, capacity ≥ 2n: n distinct items, first and last included, each within half a stride of its even place', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 18, max: 64 }), fc.integer({ min: 2, max: 9 }), (length, capacity, n) => {
      const s = new EvenSample<number>(capacity);
      for (let i = 0; i < length; i++) s.offer(i);
      const picked = s.pick(n);
      const want = Math.min(n, length);
      if (picked.length !== want || picked[0] !== 0 || picked.at(-1) !== length - 1) return false;
      if (new Set(picked).size !== picked.length || picked.some((p, i) => i > 0 && p <= picked[i - 1]!)) return false;
      const ideal = (length - 1) / (want - 1 || 1);
      const stride = Math.max(1, 2 ** Math.ceil(Math.log2(length / capacity)));
      return picked.every((p, k) => Math.abs(p - k * ideal) <= stride / 2);
    }),
  );
  t.pass();
});

test('capacity below 2 is refused', (t) => {
  t.throws(() => new EvenSample(1), { instanceOf: RangeError, message: /capacity must be an integer ≥ 2, got 1/ });
});
