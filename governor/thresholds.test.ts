import test from 'ava';
import { comparePercent, percentUsed, thresholdCrossing } from './thresholds.ts';

const alertAt = [70, 90, 100];
const counter = { alertAt, limit: 100, rearm: 'window' } as const;
const gauge = { alertAt, limit: 100, rearm: 'hysteresis' } as const;

test('a threshold fires when usage reaches it exactly, not one unit before', (t) => {
  t.deepEqual(thresholdCrossing({ ...counter, before: 60, after: 69, fired: 0 }), { fire: undefined, fired: 0 });
  t.deepEqual(thresholdCrossing({ ...counter, before: 69, after: 70, fired: 0 }), { fire: 70, fired: 70 });
});

test('each threshold fires exactly once per window as usage climbs unit by unit', (t) => {
  const fires: number[] = [];
  let fired = 0;
  for (let used = 0; used < 120; used++) {
    const outcome = thresholdCrossing({ ...counter, before: used, after: used + 1, fired });
    fired = outcome.fired;
    if (outcome.fire !== undefined) fires.push(outcome.fire);
  }
  t.deepEqual(fires, [70, 90, 100]);
});

test('a jump across several thresholds fires only the highest, and the lower ones stay quiet', (t) => {
  const jump = thresholdCrossing({ ...counter, before: 10, after: 95, fired: 0 });
  t.deepEqual(jump, { fire: 90, fired: 90 });
  t.deepEqual(thresholdCrossing({ ...counter, before: 95, after: 96, fired: jump.fired }), { fire: undefined, fired: 90 });
  t.deepEqual(thresholdCrossing({ ...counter, before: 96, after: 250, fired: jump.fired }), { fire: 100, fired: 100 });
});

test('only a rise fires: a release or no change does not', (t) => {
  t.is(thresholdCrossing({ ...counter, before: 95, after: 95, fired: 0 }).fire, undefined);
  t.is(thresholdCrossing({ ...gauge, before: 96, after: 95, fired: 0 }).fire, undefined);
});

test('a new window (fired reset to 0) re-arms every threshold', (t) => {
  t.deepEqual(thresholdCrossing({ ...counter, before: 0, after: 75, fired: 0 }), { fire: 70, fired: 70 });
});

test('counters never re-arm within a window, even if usage reads lower (a raised limit)', (t) => {
  // fired 90 earlier; the limit was then raised so usage is at 50 %; climbing back past 70 must stay quiet.
  t.deepEqual(thresholdCrossing({ alertAt, limit: 200, rearm: 'window', before: 100, after: 150, fired: 90 }), { fire: undefined, fired: 90 });
});

test('gauge hovering at a line (up/down by one) does not re-fire', (t) => {
  let fired = 0;
  const fires: number[] = [];
  let used = 89;
  for (const step of [1, -1, 1, -1, 1, -2, 2, -3, 3, -4, 4]) {
    const outcome = thresholdCrossing({ ...gauge, before: used, after: used + step, fired });
    used += step;
    fired = outcome.fired;
    if (outcome.fire !== undefined) fires.push(outcome.fire);
  }
  t.deepEqual(fires, [90]);
  t.is(used, 90);
});

test('gauge re-arms a threshold after falling 5 points below it, and then fires again', (t) => {
  // At 86 % the 90 % alert is still latched; at 85 % it re-arms (70 stays latched).
  t.deepEqual(thresholdCrossing({ ...gauge, before: 90, after: 86, fired: 90 }), { fire: undefined, fired: 90 });
  const rearmed = thresholdCrossing({ ...gauge, before: 90, after: 85, fired: 90 });
  t.deepEqual(rearmed, { fire: undefined, fired: 70 });
  t.deepEqual(thresholdCrossing({ ...gauge, before: 85, after: 90, fired: rearmed.fired }), { fire: 90, fired: 90 });
  // Falling to 0 re-arms everything.
  t.deepEqual(thresholdCrossing({ ...gauge, before: 90, after: 0, fired: 90 }), { fire: undefined, fired: 0 });
});

test('a limit of 0 counts as 100 % once anything is used', (t) => {
  t.deepEqual(thresholdCrossing({ ...counter, limit: 0, before: 0, after: 1, fired: 0 }), { fire: 100, fired: 100 });
  t.is(percentUsed(1, 0), 100);
  t.is(percentUsed(0, 0), 0);
  t.deepEqual(thresholdCrossing({ ...gauge, limit: 0, before: 1, after: 0, fired: 100 }), { fire: undefined, fired: 0 });
});

test('comparisons are exact for limits near 2^53', (t) => {
  const limit = Number.MAX_SAFE_INTEGER; // 9007199254740991
  const seventy = 6305039478318694; // ceil(0.7 × limit)
  t.is(comparePercent(seventy - 1, limit, 70), -1);
  t.is(comparePercent(seventy, limit, 70), 1);
  t.is(comparePercent(100, 1000, 10), 0);
  t.is(comparePercent(99, 1000, 10), -1);
});

test('percentUsed is exact past 2^53 and saturates at 2^53-1, so a receipt can always record it', (t) => {
  const max = Number.MAX_SAFE_INTEGER;
  t.is(percentUsed(max, max), 100);
  t.is(percentUsed(max - 1, max), 99);
  t.is(percentUsed(max, 100), max);
  // Math.floor(max * 100 / 103) in floating point is 8744853645379603, one too many.
  t.is(percentUsed(max, 103), 8744853645379602);
  t.is(percentUsed(max, 1000), 900719925474099);
  t.is(percentUsed(max, 3), max);
  t.is(percentUsed(max, 1), max);
  t.is(percentUsed(2 ** 52, 2 ** 51), 200);
});
