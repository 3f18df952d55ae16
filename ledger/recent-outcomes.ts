// Decisions per minute by outcome over the last minutes, from the entries' own times: the dashboard's overview
// rate. Pure: the clock comes in as `nowMs`.
import type { Receipt } from '../receipts/index.ts';
import { isPeek } from './entry-rows.ts';

/** One minute of decisions: allowed, denied, and peeks (consumes of amount 0) apart. */
export interface MinuteOutcomes {
  /** The minute's start, ms since the epoch. */
  start: number;
  allowed: number;
  denied: number;
  peeks: number;
}

/**
 * The decisions of `receipts` in each of the last `minutes` whole minutes up to and including `nowMs`'s, oldest
 * first; every minute is listed, empty ones too. Other kinds, and receipts outside the minutes, are skipped.
 *
 * @example decisionsPerMinute(tail, { nowMs: Date.now(), minutes: 15 }).at(-1) // the current minute so far
 */
export function decisionsPerMinute(receipts: Iterable<Pick<Receipt, 'kind' | 'time' | 'body'>>, c: { nowMs: number; minutes: number }): MinuteOutcomes[] {
  const last = Math.floor(c.nowMs / 60_000) * 60_000;
  const first = last - (c.minutes - 1) * 60_000;
  const rows = Array.from({ length: Math.max(0, c.minutes) }, (_, k): MinuteOutcomes => ({ start: first + k * 60_000, allowed: 0, denied: 0, peeks: 0 }));
  for (const r of receipts) {
    if (r.kind !== 'decision') continue;
    const row = rows[Math.floor((Math.floor(r.time / 1000) - first) / 60_000)];
    if (row === undefined) continue;
    if (isPeek(r.body)) row.peeks++;
    else if (r.body.allowed === true) row.allowed++;
    else row.denied++;
  }
  return rows;
}
