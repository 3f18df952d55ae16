import test from 'ava';
import fc from 'fast-check';
import { MarkedMap } from './marked-map.ts';

type Step = { do: 'set'; key: number; value: number } | { do: 'delete'; key: number } | { do: 'read'; count: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ do: fc.constant('set' as const), key: fc.nat(30), value: fc.integer() }),
  fc.record({ do: fc.constant('delete' as const), key: fc.nat(30) }),
  fc.record({ do: fc.constant('read' as const), count: fc.nat(5) }),
);

test('a capture reads exactly the entries, in order, the map held at the mark, whatever changes while it is read', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(30), fc.integer())), fc.array(step, { maxLength: 80 }), (before, steps) => {
      const map = new MarkedMap<number, { n: number }>(before.map(([k, v]) => [k, { n: v }]));
      const model = new Map(before.map(([k, v]) => [k, { n: v }]));
      for (const [k] of before) {
        if (k % 3 !== 0) continue;
        map.delete(k); // holes before the mark
        model.delete(k);
      }
      const atMark = [...map.entries()];
      const capture = map.capture();
      const reader = capture[Symbol.iterator]();
      const read: [number, { n: number }][] = [];
      const pull = (count: number): void => {
        for (let i = 0; i < count; i++) {
          const next = reader.next();
          if (next.done) return;
          read.push(next.value);
        }
      };
      for (const s of steps) {
        if (s.do === 'set') {
          map.set(s.key, { n: s.value });
          model.set(s.key, { n: s.value });
        } else if (s.do === 'delete') t.is(map.delete(s.key), model.delete(s.key));
        else pull(s.count);
      }
      pull(Infinity);
      t.deepEqual(read, atMark);
      t.deepEqual([...map.entries()], [...model.entries()]); // the live map is an ordinary Map all along
    }),
  );
});

test('a second capture while one is held is a whole copy, and a released mark keeps nothing more', (t) => {
  const map = new MarkedMap<string, number>([['a', 1], ['b', 2]]);
  const first = map.capture();
  const second = map.capture();
  map.set('a', 10);
  map.delete('b');
  t.deepEqual([...second], [['a', 1], ['b', 2]]);
  t.deepEqual([...first], [['a', 1], ['b', 2]]);
  const third = map.capture(); // the first was read to its end, which released it
  map.set('c', 3);
  third.release();
  map.set('a', 11);
  t.deepEqual([...map], [['a', 11], ['c', 3]]);
});
