import test from 'ava';
import fc from 'fast-check';
import { MAX_USAGE, MemoryUsageStore, saturatingAdd, type UsageCell } from './usage.ts';

const key = { tenant: 'acme', metric: 'api-calls' };

test('reserve adds within the cap and refuses past it without changing anything', (t) => {
  const usage = new MemoryUsageStore();
  const first = usage.reserve({ key, windowStart: 1000, amount: 8, cap: 10 });
  t.true(first.ok);
  t.is(first.used, 8);
  const refused = usage.reserve({ key, windowStart: 1000, amount: 3, cap: 10 });
  t.false(refused.ok);
  t.is(refused.reservation, undefined);
  t.is(refused.used, 8);
  t.deepEqual(usage.read(key, 1000), { used: 8, fired: 0 });
  t.true(usage.reserve({ key, windowStart: 1000, amount: 2, cap: 10 }).ok);
  t.deepEqual(usage.read(key, 1000), { used: 10, fired: 0 });
});

test('a new window start resets used and fired; reading another window does not write', (t) => {
  const usage = new MemoryUsageStore();
  usage.reserve({ key, windowStart: 1000, amount: 5 });
  usage.setFired(key, 1000, 70);
  t.deepEqual(usage.read(key, 2000), { used: 0, fired: 0 });
  t.deepEqual(usage.read(key, 1000), { used: 5, fired: 70 }, 'read of another window left the cell alone');
  const next = usage.reserve({ key, windowStart: 2000, amount: 1 });
  t.deepEqual({ used: next.used, fired: next.fired }, { used: 1, fired: 0 });
  t.deepEqual(usage.read(key, 1000), { used: 0, fired: 0 });
});

test('negative amounts floor at 0 and release undoes exactly what was applied', (t) => {
  const usage = new MemoryUsageStore();
  usage.reserve({ key, windowStart: null, amount: 3 });
  const released = usage.reserve({ key, windowStart: null, amount: -5, cap: 0 });
  t.true(released.ok, 'a release is never refused by the cap');
  t.is(released.used, 0);
  t.is(released.reservation?.applied, -3);
  const held = usage.reserve({ key, windowStart: null, amount: 4 });
  if (held.reservation === undefined) return t.fail();
  usage.release(held.reservation);
  t.is(usage.read(key, null).used, 0);
});

test('release after the window rolled over changes nothing', (t) => {
  const usage = new MemoryUsageStore();
  const held = usage.reserve({ key, windowStart: 1000, amount: 4 });
  usage.reserve({ key, windowStart: 2000, amount: 2 });
  if (held.reservation === undefined) return t.fail();
  usage.release(held.reservation);
  t.is(usage.read(key, 2000).used, 2);
});

test('cells enumerate and restore round-trips them', (t) => {
  const usage = new MemoryUsageStore();
  usage.reserve({ key, windowStart: 1000, amount: 5 });
  usage.setFired(key, 1000, 90);
  usage.reserve({ key: { tenant: 'globex', metric: 'seats' }, windowStart: null, amount: 2 });
  const cells = [...usage.cells()];
  t.deepEqual(cells, [
    { tenant: 'acme', metric: 'api-calls', windowStart: 1000, used: 5, fired: 90 },
    { tenant: 'globex', metric: 'seats', windowStart: null, used: 2, fired: 0 },
  ]);
  const rebuilt = new MemoryUsageStore();
  rebuilt.restore(cells);
  t.deepEqual([...rebuilt.cells()], cells);
  // Restored cells are copies: changing the rebuilt store leaves the enumerated objects alone.
  rebuilt.reserve({ key, windowStart: 1000, amount: 1 });
  t.is(cells[0]?.used, 5);
});

test('usage saturates at 2^53-1 and floors at 0; applied is the change actually made', (t) => {
  const usage = new MemoryUsageStore();
  const full = usage.reserve({ key, windowStart: null, amount: MAX_USAGE });
  t.is(full.used, MAX_USAGE);
  const past = usage.reserve({ key, windowStart: null, amount: MAX_USAGE });
  t.like(past, { ok: true, used: MAX_USAGE, reservation: { key, windowStart: null, applied: 0 } });
  const down = usage.reserve({ key, windowStart: null, amount: -MAX_USAGE });
  t.like(down, { used: 0, reservation: { applied: -MAX_USAGE } });
  t.is(saturatingAdd(MAX_USAGE - 1, 2), MAX_USAGE);
  t.is(saturatingAdd(5, -MAX_USAGE), 0);
  t.is(saturatingAdd(MAX_USAGE - 2, 1), MAX_USAGE - 1, 'exact below the edge');
});

test('a refusal in a new window writes nothing: the cell keeps its window, usage and fired mark', (t) => {
  const usage = new MemoryUsageStore();
  usage.reserve({ key, windowStart: 1000, amount: 5 });
  usage.setFired(key, 1000, 70);
  t.false(usage.reserve({ key, windowStart: 2000, amount: 11, cap: 10 }).ok);
  t.deepEqual([...usage.cells()], [{ ...key, windowStart: 1000, used: 5, fired: 70 }]);
});

type Change = { do: 'reserve' | 'release' | 'fired' | 'restore' | 'read'; tenant: number; metric: number; window: number; amount: number };
const change: fc.Arbitrary<Change> = fc.record({
  do: fc.constantFrom('reserve', 'release', 'fired', 'restore', 'read'),
  tenant: fc.nat(4),
  metric: fc.nat(3),
  window: fc.nat(2),
  amount: fc.integer({ min: -5, max: 20 }),
});

test('a capture reads exactly the cells, in order, as they were when it was taken, whatever changes while it is read', (t) => {
  fc.assert(
    fc.property(fc.array(change, { maxLength: 30 }), fc.array(change, { maxLength: 60 }), (before, during) => {
      const usage = new MemoryUsageStore();
      const apply = (c: Change): void => {
        const key = { tenant: `t${c.tenant}`, metric: `m${c.metric}` };
        if (c.do === 'reserve') usage.reserve({ key, windowStart: c.window, amount: c.amount, cap: 40 });
        else if (c.do === 'release') usage.release({ key, windowStart: c.window, applied: c.amount });
        else if (c.do === 'fired') usage.setFired(key, c.window, c.amount);
        else if (c.do === 'restore') usage.restore([{ ...key, windowStart: c.window, used: Math.abs(c.amount), fired: 0 }]);
      };
      before.forEach(apply);
      const atCapture = [...usage.cells()];
      const reader = usage.capture()[Symbol.iterator]();
      const read: UsageCell[] = [];
      const pull = (count: number): void => {
        for (let i = 0; i < count; i++) {
          const next = reader.next();
          if (next.done === true) return;
          read.push(next.value);
        }
      };
      for (const c of during) {
        if (c.do !== 'read') apply(c);
        else pull(c.amount);
      }
      pull(Infinity);
      t.deepEqual(read, atCapture);
      t.deepEqual(usage.capture()[Symbol.iterator]().next().value, [...usage.cells()][0]); // released: a new one starts
    }),
  );
});
