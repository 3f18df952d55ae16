import test from 'ava';
import { WindowCache } from './window-cache.ts';
import { quotaWindow } from './windows.ts';

const JUNE_15 = Date.parse('2026-06-15T12:00:00Z');
const input = (now: number) => ({ now, unit: 'month', reset: 'calendar', anchor: undefined }) as const;

test('a window is placed once and shared until it ends, then the next is placed', (t) => {
  const windows = new WindowCache();
  const june = windows.at(input(JUNE_15))!;
  t.deepEqual(june, { start: Date.parse('2026-06-01T00:00:00Z'), end: Date.parse('2026-07-01T00:00:00Z'), resetsAt: '2026-07-01T00:00:00Z' });
  t.is(windows.at(input(JUNE_15 + 1000)), june, 'the same object within the window');
  const july = windows.at(input(june.end))!;
  t.is(july.resetsAt, '2026-08-01T00:00:00Z');
  t.deepEqual({ start: july.start, end: july.end }, quotaWindow(input(june.end)));
});

test('each cache is its own: two governors in one process share nothing', (t) => {
  const a = new WindowCache();
  const b = new WindowCache();
  t.not(a.at(input(JUNE_15)), b.at(input(JUNE_15)));
  t.deepEqual(a.at(input(JUNE_15)), b.at(input(JUNE_15)));
});
