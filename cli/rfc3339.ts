// RFC 3339 date-times to and from receipt time (microseconds since the Unix epoch, UTC). Pure.
import { daysInMonth } from '../governor/time.ts';
import { UsageError } from './io.ts';

/** RFC 3339 §5.6 date-time (T or t, Z or z or ±hh:mm), or a full-date alone meaning its midnight UTC. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2}))?$/;

const EXAMPLE = 'e.g. 2025-06-01T12:00:00Z, 2025-06-01T14:00:00.250+02:00 or 2025-06-01';

/** Offset east of UTC in minutes; undefined when out of range. */
function offsetMinutes(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0;
  const [h, m] = zone.slice(1).split(':').map(Number) as [number, number];
  if (h > 23 || m > 59) return undefined;
  return (zone.startsWith('-') ? -1 : 1) * (h * 60 + m);
}

/** Which field is out of range, or undefined. */
function badField(f: { year: number; month: number; day: number; hour: number; minute: number; second: number }): string | undefined {
  if (f.month < 1 || f.month > 12) return `month ${f.month}`;
  if (f.day < 1 || f.day > daysInMonth(f.year, f.month - 1)) return `day ${f.day} of ${f.year}-${String(f.month).padStart(2, '0')}`;
  if (f.hour > 23) return `hour ${f.hour}`;
  if (f.minute > 59) return `minute ${f.minute}`;
  if (f.second === 60) return 'second 60 (leap seconds cannot be matched: receipt time is Unix time)';
  return f.second > 59 ? `second ${f.second}` : undefined;
}

/**
 * Microseconds since the epoch of an RFC 3339 date-time; digits past the microsecond are dropped.
 *
 * @throws UsageError naming `flag`, the text and what is wrong.
 * @example parseRfc3339Micros('1970-01-01T00:00:01.5Z', '--since') // 1500000
 */
export function parseRfc3339Micros(text: string, flag: string): number {
  const m = DATE_TIME.exec(text);
  if (!m) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not an RFC 3339 date-time (${EXAMPLE})`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((s) => Number(s ?? 0)) as [number, number, number, number, number, number];
  const bad = badField({ year, month, day, hour, minute, second });
  if (bad !== undefined) throw new UsageError(`${flag}: ${JSON.stringify(text)}: ${bad} is out of range`);
  const offset = offsetMinutes(m[8] ?? 'Z');
  if (offset === undefined) throw new UsageError(`${flag}: ${JSON.stringify(text)}: UTC offset ${m[8]} is out of range`);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offset, second, 0);
  const micros = date.getTime() * 1000 + Number((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  if (!Number.isSafeInteger(micros)) throw new UsageError(`${flag}: ${JSON.stringify(text)} is out of range`);
  return micros;
}

export { rfc3339FromMicros } from '../ledger/index.ts';
