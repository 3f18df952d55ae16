// Calendar and time-text helpers shared by the governor and the edges (the CLI parses dates with them). Pure.

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Whether `year` is a Gregorian leap year. */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Days in `month` of `year`, leap years exact (Gregorian). `month` counts from 0 (January), as `Date` does;
 * text dates count from 1, so pass `month - 1` for them.
 *
 * @example daysInMonth(2028, 1) // 29: February of a leap year
 */
export function daysInMonth(year: number, month: number): number {
  return month === 1 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month] ?? 31);
}

/** RFC 3339 in UTC, whole seconds without a fraction ("2026-12-01T00:00:00Z", as on the wire in design §4). */
export function rfc3339(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
