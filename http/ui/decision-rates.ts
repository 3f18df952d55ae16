import type { DecisionRate } from './dashboard-source.ts';

/** Length of one interval. */
export const RATE_INTERVAL_MS = 10_000;
/** Intervals kept: the last five minutes. */
export const RATE_INTERVALS = 30;

/**
 * Decisions answered per 10 s interval and outcome, for the last five minutes: a ring of counters, so recording
 * one is two additions and the memory is fixed.
 */
export class DecisionRates {
  readonly #allowed = new Array<number>(RATE_INTERVALS).fill(0);
  readonly #denied = new Array<number>(RATE_INTERVALS).fill(0);
  /** The interval (ms / RATE_INTERVAL_MS) each slot counts. */
  readonly #slotOf = new Array<number>(RATE_INTERVALS).fill(-1);

  add(allowed: boolean, now: number): void {
    const interval = Math.floor(now / RATE_INTERVAL_MS);
    const slot = interval % RATE_INTERVALS;
    if (this.#slotOf[slot] !== interval) {
      this.#slotOf[slot] = interval;
      this.#allowed[slot] = 0;
      this.#denied[slot] = 0;
    }
    if (allowed) this.#allowed[slot]!++;
    else this.#denied[slot]!++;
  }

  /** The intervals of the last five minutes up to the one holding `now`, oldest first (empty ones as 0). */
  recent(now: number): DecisionRate[] {
    const last = Math.floor(now / RATE_INTERVAL_MS);
    const out: DecisionRate[] = [];
    for (let interval = last - RATE_INTERVALS + 1; interval <= last; interval++) {
      const slot = ((interval % RATE_INTERVALS) + RATE_INTERVALS) % RATE_INTERVALS;
      const counted = this.#slotOf[slot] === interval;
      out.push({ at: (interval + 1) * RATE_INTERVAL_MS, allowed: counted ? this.#allowed[slot]! : 0, denied: counted ? this.#denied[slot]! : 0 });
    }
    return out;
  }
}
