import type { ResetMode, WindowUnit } from '../crds/index.ts';
import { daysInMonth } from './time.ts';

/** A half-open interval of time `[start, end)`, in milliseconds since the Unix epoch (UTC). */
export interface QuotaWindow {
  start: number;
  end: number;
}

export interface QuotaWindowInput {
  /** The instant to place, ms since the epoch. */
  now: number;
  unit: WindowUnit;
  reset: ResetMode;
  /** The tenant's billing anchor (ms); with `reset: 'anchor'` windows are phased to it. Undefined → calendar. */
  anchor?: number | undefined;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/** 1970-01-05T00:00:00Z, the first Monday after the epoch (a Thursday): ISO weeks start on Monday 00:00 UTC. */
const FIRST_MONDAY_MS = 4 * DAY_MS;

const FIXED_LENGTH_MS = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS, week: WEEK_MS } as const;

/** Where a monthly or yearly window starts: month (0-11, yearly only), day of month (1-31), time of day (ms). */
interface CalendarPhase {
  month: number;
  day: number;
  timeOfDay: number;
}

const CALENDAR_PHASE: CalendarPhase = { month: 0, day: 1, timeOfDay: 0 };

/**
 * The window of `unit` that contains `now`, or undefined for `unit: 'none'` (usage never resets).
 *
 * calendar: minute, hour and day start on UTC boundaries, weeks on Monday 00:00 UTC (ISO 8601), months on
 * the 1st, years on January 1st.
 * anchor: windows start at the anchor's phase. A monthly window starts on the anchor's day of month and time
 * of day, clamped to the month's last day when the month is shorter (an anchor on the 31st gives Feb 28 — or
 * Feb 29 in a leap year — and Apr 30, then the 31st again in months that have one). A yearly window starts on
 * the anchor's month, day and time (a Feb 29 anchor gives Feb 28 in common years). minute, hour, day and week
 * are fixed-length periods phased to the anchor. `now` may lie before the anchor: the phase extends backwards.
 * Without an anchor, `reset: 'anchor'` falls back to calendar windows.
 *
 * @example
 * quotaWindow({ now: Date.parse('2028-02-15T00:00:00Z'), unit: 'month', reset: 'anchor', anchor: Date.parse('2028-01-31T00:00:00Z') })
 * // → { start: 2028-01-31T00:00Z, end: 2028-02-29T00:00Z }
 */
export function quotaWindow(input: QuotaWindowInput): QuotaWindow | undefined {
  const { now, unit } = input;
  const anchor = input.reset === 'anchor' ? input.anchor : undefined;
  switch (unit) {
    case 'none':
      return undefined;
    case 'month':
      return monthlyWindow(now, anchor === undefined ? CALENDAR_PHASE : phaseOf(anchor));
    case 'year':
      return yearlyWindow(now, anchor === undefined ? CALENDAR_PHASE : phaseOf(anchor));
    case 'week':
      return fixedWindow(now, WEEK_MS, anchor ?? FIRST_MONDAY_MS);
    default:
      return fixedWindow(now, FIXED_LENGTH_MS[unit], anchor ?? 0);
  }
}

function fixedWindow(now: number, length: number, phase: number): QuotaWindow {
  const start = phase + Math.floor((now - phase) / length) * length;
  return { start, end: start + length };
}

function phaseOf(anchor: number): CalendarPhase {
  const date = new Date(anchor);
  return { month: date.getUTCMonth(), day: date.getUTCDate(), timeOfDay: mod(anchor, DAY_MS) };
}

/** The window start in the month numbered `months` (= year * 12 + month index). */
function monthStart(months: number, phase: CalendarPhase): number {
  const year = Math.floor(months / 12);
  const month = months - year * 12;
  return utcDay(year, month, Math.min(phase.day, daysInMonth(year, month))) + phase.timeOfDay;
}

function monthlyWindow(now: number, phase: CalendarPhase): QuotaWindow {
  const date = new Date(now);
  const months = date.getUTCFullYear() * 12 + date.getUTCMonth();
  const here = monthStart(months, phase);
  // The start within now's own month always lies inside that month, so the window is this one or the one before.
  return here <= now
    ? { start: here, end: monthStart(months + 1, phase) }
    : { start: monthStart(months - 1, phase), end: here };
}

function yearStart(year: number, phase: CalendarPhase): number {
  return utcDay(year, phase.month, Math.min(phase.day, daysInMonth(year, phase.month))) + phase.timeOfDay;
}

function yearlyWindow(now: number, phase: CalendarPhase): QuotaWindow {
  const year = new Date(now).getUTCFullYear();
  const here = yearStart(year, phase);
  return here <= now ? { start: here, end: yearStart(year + 1, phase) } : { start: yearStart(year - 1, phase), end: here };
}

/** Midnight UTC of a date; unlike Date.UTC, years 0-99 are not taken as 1900-1999. */
function utcDay(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  return date.getTime();
}

function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}
