import test from 'ava';
import fc from 'fast-check';
import { OverlayMap } from './overlay-map.ts';

test('with() never changes the map it derives from', (t) => {
  const a = OverlayMap.from([['x', 1], ['y', 2]]);
  const b = a.with(new Map([['x', 10], ['z', 3]]), ['y']);
  t.deepEqual([...a], [['x', 1], ['y', 2]]);
  t.deepEqual(new Map(b), new Map([['x', 10], ['z', 3]]));
  t.is(b.size, 2);
  t.false(b.has('y'));
  t.is(b.get('y'), undefined);
});

test('property: any sequence of sets and removals behaves like a Map, through folds', (t) => {
  const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 60 }), fc.integer());
  fc.assert(
    fc.property(fc.array(fc.array(op, { maxLength: 8 }), { maxLength: 120 }), (batches) => {
      let m = OverlayMap.empty<number, number>();
      const model = new Map<number, number>();
      const history: [OverlayMap<number, number>, Map<number, number>][] = [];
      for (const batch of batches) {
        const set = new Map<number, number>();
        const remove: number[] = [];
        for (const [isSet, k, v] of batch) {
          if (isSet) set.set(k, v);
          else remove.push(k);
        }
        m = m.with(set, remove);
        for (const k of remove) if (!set.has(k)) model.delete(k);
        for (const [k, v] of set) model.set(k, v);
        history.push([m, new Map(model)]);
      }
      for (const [snapshot, expected] of history) {
        if (snapshot.size !== expected.size) return false;
        if (JSON.stringify([...snapshot].sort()) !== JSON.stringify([...expected].sort())) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});
