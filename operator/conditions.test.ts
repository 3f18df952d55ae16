import test from 'ava';
import { conditionOf, setCondition, setConditions } from './conditions.ts';

const ready = { type: 'Ready', status: 'True' as const, reason: 'Compiled', message: 'ok' };

test('a new condition takes the current time and generation', (t) => {
  const out = setCondition(undefined, ready, { generation: 3, now: '2026-01-01T00:00:00Z' });
  t.deepEqual(out, [{ ...ready, observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z' }]);
});

test('lastTransitionTime is kept while the status stays, and moves when it changes', (t) => {
  const first = setCondition(undefined, ready, { generation: 1, now: 'T1' });
  const same = setCondition(first, { ...ready, message: 'still ok' }, { generation: 2, now: 'T2' });
  t.is(conditionOf(same, 'Ready')?.lastTransitionTime, 'T1');
  t.is(conditionOf(same, 'Ready')?.observedGeneration, 2);
  t.is(conditionOf(same, 'Ready')?.message, 'still ok');
  const flipped = setCondition(same, { ...ready, status: 'False', reason: 'SKUNotFound' }, { generation: 3, now: 'T3' });
  t.is(conditionOf(flipped, 'Ready')?.lastTransitionTime, 'T3');
  t.is(first.length, 1, 'the input is not changed');
  t.is(first[0]?.observedGeneration, 1);
});

test('conditions are replaced by type and kept sorted', (t) => {
  const out = setConditions(undefined, [ready, { type: 'Suspended', status: 'False', reason: 'Active', message: '' }, { ...ready, reason: 'Again' }], { generation: 1, now: 'T' });
  t.deepEqual(out.map((c) => [c.type, c.reason]), [['Ready', 'Again'], ['Suspended', 'Active']]);
});
