import test from 'ava';
import fc from 'fast-check';
import type { ResetMode, WindowUnit } from '../crds/index.ts';
import { daysInMonth } from './time.ts';
import { quotaWindow } from './windows.ts';

const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad date ${iso}`);
  return ms;
};

/** The window as ISO strings, for readable assertions. */
function win(now: string, unit: WindowUnit, reset: ResetMode = 'calendar', anchor?: string): [string, string] | undefined {
  const w = quotaWindow({ now: at(now), unit, reset, anchor: anchor === undefined ? undefined : at(anchor) });
  return w === undefined ? undefined : [new Date(w.start).toISOString(), new Date(w.end).toISOString()];
}

test('none has no window, whatever the reset', (t) => {
  t.is(win('2026-11-15T12:00:00Z', 'none'), undefined);
  t.is(win('2026-11-15T12:00:00Z', 'none', 'anchor', '2026-03-14T00:00:00Z'), undefined);
});

test('calendar minute, hour and day on UTC boundaries', (t) => {
  t.deepEqual(win('2026-11-15T12:34:59.999Z', 'minute'), ['2026-11-15T12:34:00.000Z', '2026-11-15T12:35:00.000Z']);
  t.deepEqual(win('2026-11-15T12:35:00.000Z', 'minute'), ['2026-11-15T12:35:00.000Z', '2026-11-15T12:36:00.000Z']);
  t.deepEqual(win('2026-11-15T12:59:59.999Z', 'hour'), ['2026-11-15T12:00:00.000Z', '2026-11-15T13:00:00.000Z']);
  t.deepEqual(win('2026-11-15T13:00:00.000Z', 'hour'), ['2026-11-15T13:00:00.000Z', '2026-11-15T14:00:00.000Z']);
  t.deepEqual(win('2026-11-15T23:59:59.999Z', 'day'), ['2026-11-15T00:00:00.000Z', '2026-11-16T00:00:00.000Z']);
  t.deepEqual(win('2026-11-16T00:00:00.000Z', 'day'), ['2026-11-16T00:00:00.000Z', '2026-11-17T00:00:00.000Z']);
  // Before the epoch too (negative ms floor downwards).
  t.deepEqual(win('1969-12-31T23:59:59.999Z', 'day'), ['1969-12-31T00:00:00.000Z', '1970-01-01T00:00:00.000Z']);
});

test('calendar weeks start on Monday 00:00 UTC (ISO 8601)', (t) => {
  // 2026-11-16 is a Monday.
  t.deepEqual(win('2026-11-15T23:59:59.999Z', 'week'), ['2026-11-09T00:00:00.000Z', '2026-11-16T00:00:00.000Z']);
  t.deepEqual(win('2026-11-16T00:00:00.000Z', 'week'), ['2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z']);
  // A week that spans the year end: 2026-12-28 is a Monday; ISO week 2027-W01 starts 2027-01-04.
  t.deepEqual(win('2027-01-01T10:00:00Z', 'week'), ['2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z']);
  t.deepEqual(win('1970-01-01T00:00:00Z', 'week'), ['1969-12-29T00:00:00.000Z', '1970-01-05T00:00:00.000Z']);
  const start = quotaWindow({ now: at('2031-06-11T08:00:00Z'), unit: 'week', reset: 'calendar' })?.start ?? Number.NaN;
  t.is(new Date(start).getUTCDay(), 1);
});

test('calendar months: last ms of a month and first ms of the next, 31/30/29/28 days', (t) => {
  t.deepEqual(win('2026-01-31T23:59:59.999Z', 'month'), ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
  t.deepEqual(win('2026-02-01T00:00:00.000Z', 'month'), ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
  t.deepEqual(win('2026-04-30T23:59:59.999Z', 'month'), ['2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z']);
  t.deepEqual(win('2028-02-29T23:59:59.999Z', 'month'), ['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z']);
  t.deepEqual(win('2027-02-28T23:59:59.999Z', 'month'), ['2027-02-01T00:00:00.000Z', '2027-03-01T00:00:00.000Z']);
  t.deepEqual(win('2027-03-01T00:00:00.000Z', 'month'), ['2027-03-01T00:00:00.000Z', '2027-04-01T00:00:00.000Z']);
});

test('calendar year end: Dec 31 23:59:59.999 → Jan 1', (t) => {
  t.deepEqual(win('2026-12-31T23:59:59.999Z', 'year'), ['2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  t.deepEqual(win('2027-01-01T00:00:00.000Z', 'year'), ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z']);
  t.deepEqual(win('2026-12-31T23:59:59.999Z', 'month'), ['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  t.deepEqual(win('2026-12-31T23:59:59.999Z', 'day'), ['2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
});

test('reset anchor without an anchor falls back to calendar', (t) => {
  t.deepEqual(win('2026-11-15T12:00:00Z', 'month', 'anchor'), win('2026-11-15T12:00:00Z', 'month'));
  t.deepEqual(win('2026-11-15T12:00:00Z', 'week', 'anchor'), win('2026-11-15T12:00:00Z', 'week'));
});

test('an anchor is ignored under reset calendar', (t) => {
  t.deepEqual(win('2026-11-15T12:00:00Z', 'month', 'calendar', '2026-03-14T00:00:00Z'), [
    '2026-11-01T00:00:00.000Z',
    '2026-12-01T00:00:00.000Z',
  ]);
});

test('monthly anchor on the 31st clamps: Jan 31 → Feb 29 2028 → Mar 31 → Apr 30 → May 31', (t) => {
  const anchor = '2027-12-31T09:30:00Z';
  t.deepEqual(win('2028-02-15T00:00:00Z', 'month', 'anchor', anchor), ['2028-01-31T09:30:00.000Z', '2028-02-29T09:30:00.000Z']);
  t.deepEqual(win('2028-02-29T09:29:59.999Z', 'month', 'anchor', anchor), ['2028-01-31T09:30:00.000Z', '2028-02-29T09:30:00.000Z']);
  t.deepEqual(win('2028-02-29T09:30:00.000Z', 'month', 'anchor', anchor), ['2028-02-29T09:30:00.000Z', '2028-03-31T09:30:00.000Z']);
  t.deepEqual(win('2028-04-01T00:00:00Z', 'month', 'anchor', anchor), ['2028-03-31T09:30:00.000Z', '2028-04-30T09:30:00.000Z']);
  t.deepEqual(win('2028-05-01T00:00:00Z', 'month', 'anchor', anchor), ['2028-04-30T09:30:00.000Z', '2028-05-31T09:30:00.000Z']);
  // A common year: Feb 28.
  t.deepEqual(win('2027-02-10T00:00:00Z', 'month', 'anchor', anchor), ['2027-01-31T09:30:00.000Z', '2027-02-28T09:30:00.000Z']);
});

test('monthly anchor mid-month, and now before the anchor', (t) => {
  const anchor = '2026-03-14T00:00:00Z';
  t.deepEqual(win('2026-11-13T23:59:59.999Z', 'month', 'anchor', anchor), ['2026-10-14T00:00:00.000Z', '2026-11-14T00:00:00.000Z']);
  t.deepEqual(win('2026-11-14T00:00:00.000Z', 'month', 'anchor', anchor), ['2026-11-14T00:00:00.000Z', '2026-12-14T00:00:00.000Z']);
  t.deepEqual(win('2026-12-20T00:00:00Z', 'month', 'anchor', anchor), ['2026-12-14T00:00:00.000Z', '2027-01-14T00:00:00.000Z']);
  // Before the anchor, the phase extends backwards.
  t.deepEqual(win('2025-06-01T00:00:00Z', 'month', 'anchor', anchor), ['2025-05-14T00:00:00.000Z', '2025-06-14T00:00:00.000Z']);
  t.deepEqual(win('2026-03-13T23:59:59.999Z', 'month', 'anchor', anchor), ['2026-02-14T00:00:00.000Z', '2026-03-14T00:00:00.000Z']);
});

test('yearly anchor on Feb 29: Feb 28 in common years', (t) => {
  const anchor = '2028-02-29T12:00:00Z';
  t.deepEqual(win('2028-06-01T00:00:00Z', 'year', 'anchor', anchor), ['2028-02-29T12:00:00.000Z', '2029-02-28T12:00:00.000Z']);
  t.deepEqual(win('2029-02-28T11:59:59.999Z', 'year', 'anchor', anchor), ['2028-02-29T12:00:00.000Z', '2029-02-28T12:00:00.000Z']);
  t.deepEqual(win('2029-02-28T12:00:00.000Z', 'year', 'anchor', anchor), ['2029-02-28T12:00:00.000Z', '2030-02-28T12:00:00.000Z']);
  t.deepEqual(win('2031-12-31T23:59:59.999Z', 'year', 'anchor', anchor), ['2031-02-28T12:00:00.000Z', '2032-02-29T12:00:00.000Z']);
  // Before the anchor.
  t.deepEqual(win('2027-01-01T00:00:00Z', 'year', 'anchor', anchor), ['2026-02-28T12:00:00.000Z', '2027-02-28T12:00:00.000Z']);
});

test('anchored day, hour, minute and week are fixed periods phased to the anchor', (t) => {
  const anchor = '2026-03-14T06:15:30Z'; // a Saturday
  t.deepEqual(win('2026-11-15T06:15:29.999Z', 'day', 'anchor', anchor), ['2026-11-14T06:15:30.000Z', '2026-11-15T06:15:30.000Z']);
  t.deepEqual(win('2026-11-15T06:15:30.000Z', 'day', 'anchor', anchor), ['2026-11-15T06:15:30.000Z', '2026-11-16T06:15:30.000Z']);
  t.deepEqual(win('2026-11-15T12:00:00Z', 'hour', 'anchor', anchor), ['2026-11-15T11:15:30.000Z', '2026-11-15T12:15:30.000Z']);
  t.deepEqual(win('2026-11-15T12:00:00Z', 'minute', 'anchor', anchor), ['2026-11-15T11:59:30.000Z', '2026-11-15T12:00:30.000Z']);
  t.deepEqual(win('2026-11-15T12:00:00Z', 'week', 'anchor', anchor), ['2026-11-14T06:15:30.000Z', '2026-11-21T06:15:30.000Z']);
  // Before the anchor.
  t.deepEqual(win('2026-03-14T06:15:29.999Z', 'day', 'anchor', anchor), ['2026-03-13T06:15:30.000Z', '2026-03-14T06:15:30.000Z']);
  t.deepEqual(win('2020-01-01T00:00:00Z', 'hour', 'anchor', anchor), ['2019-12-31T23:15:30.000Z', '2020-01-01T00:15:30.000Z']);
});

test('days in month, leap years exact', (t) => {
  t.is(daysInMonth(2028, 1), 29);
  t.is(daysInMonth(2027, 1), 28);
  t.is(daysInMonth(2000, 1), 29);
  t.is(daysInMonth(2100, 1), 28);
  t.is(daysInMonth(2026, 3), 30);
  t.is(daysInMonth(2026, 11), 31);
});

const units: WindowUnit[] = ['minute', 'hour', 'day', 'week', 'month', 'year'];

test('property: every window contains now, and the next window starts where it ends', (t) => {
  const instant = fc.integer({ min: Date.parse('1900-01-01T00:00:00Z'), max: Date.parse('2200-01-01T00:00:00Z') });
  fc.assert(
    fc.property(instant, fc.constantFrom(...units), fc.constantFrom<ResetMode>('calendar', 'anchor'), fc.option(instant, { nil: undefined }), (now, unit, reset, anchor) => {
      const w = quotaWindow({ now, unit, reset, anchor });
      if (w === undefined) return false;
      const next = quotaWindow({ now: w.end, unit, reset, anchor });
      const previous = quotaWindow({ now: w.start - 1, unit, reset, anchor });
      return w.start <= now && now < w.end && next?.start === w.end && previous?.end === w.start;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
