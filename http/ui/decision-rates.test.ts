import test from 'ava';
import { DecisionRates, RATE_INTERVAL_MS, RATE_INTERVALS } from './decision-rates.ts';

const T0 = Date.parse('2026-12-02T12:00:00Z');

test('decisions are counted per 10 s interval and outcome, the last five minutes oldest first, empty intervals as 0', (t) => {
  const rates = new DecisionRates();
  rates.add(true, T0 + 1);
  rates.add(true, T0 + 9_999);
  rates.add(false, T0 + 5_000);
  rates.add(true, T0 + RATE_INTERVAL_MS * 2);
  const recent = rates.recent(T0 + RATE_INTERVAL_MS * 2 + 1);
  t.is(recent.length, RATE_INTERVALS);
  t.deepEqual(recent.slice(-3), [
    { at: T0 + RATE_INTERVAL_MS, allowed: 2, denied: 1 },
    { at: T0 + RATE_INTERVAL_MS * 2, allowed: 0, denied: 0 },
    { at: T0 + RATE_INTERVAL_MS * 3, allowed: 1, denied: 0 },
  ]);
});

test('a slot reused after five minutes starts from zero; an interval older than the window is gone', (t) => {
  const rates = new DecisionRates();
  rates.add(false, T0);
  rates.add(true, T0 + RATE_INTERVAL_MS * RATE_INTERVALS);
  const recent = rates.recent(T0 + RATE_INTERVAL_MS * RATE_INTERVALS);
  t.deepEqual(recent.at(-1), { at: T0 + RATE_INTERVAL_MS * (RATE_INTERVALS + 1), allowed: 1, denied: 0 });
  t.is(recent.reduce((n, r) => n + r.denied, 0), 0);
});
