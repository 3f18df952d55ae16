import { rfc3339 } from './time.ts';
import { quotaWindow, type QuotaWindowInput } from './windows.ts';

/** A quota window with its end already formatted for the answer. */
export interface FormattedWindow {
  start: number;
  end: number;
  resetsAt: string;
}

/** Windows kept at most; past it the cache starts over (there is one window per unit, reset and anchor in use). */
const MAX_WINDOWS = 10_000;

/**
 * The window at `now` for each (unit, reset, anchor), with its end formatted: every consume in a window shares
 * them, so they are computed once per window and reset. A pure memo (the same input always gives the same
 * window) held by its owner, one per Governor, so nothing is shared between governors in one process.
 */
export class WindowCache {
  readonly #windows = new Map<string, FormattedWindow>();

  /** The window containing `input.now`, or undefined for a quota without one. */
  at(input: QuotaWindowInput): FormattedWindow | undefined {
    const id = `${input.unit}|${input.reset}|${input.reset === 'anchor' ? input.anchor : ''}`;
    const cached = this.#windows.get(id);
    if (cached !== undefined && cached.start <= input.now && input.now < cached.end) return cached;
    const w = quotaWindow(input);
    if (w === undefined) return undefined;
    if (this.#windows.size >= MAX_WINDOWS) this.#windows.clear();
    const formatted = { start: w.start, end: w.end, resetsAt: rfc3339(w.end) };
    this.#windows.set(id, formatted);
    return formatted;
  }
}
