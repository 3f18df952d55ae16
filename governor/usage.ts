import { copied, type Capture } from './marked-map.ts';

/**
 * Usage counters, kept apart from the policy snapshot (design §3): a snapshot swap never touches them, and a
 * raised limit applies at once to the usage already counted.
 *
 * A cell is keyed by tenant + metric and holds one window: its start, the units used in it and the highest
 * threshold already fired in it. Asking for a different window start than the one a cell holds sees an empty
 * cell (a new window), and writing to it starts that window afresh: used and fired thresholds reset.
 */

/** Which counter: one tenant's metric. */
export interface UsageKey {
  readonly tenant: string;
  readonly metric: string;
}

/** The window a cell counts in: its start (ms since the epoch), or null for metrics without a window. */
export type WindowStart = number | null;

export interface UsageReading {
  used: number;
  /** Highest threshold percentage already fired in this window; 0 when none has. */
  fired: number;
}

/** One counter, as enumerated for a snapshot and given back to `restore`. */
export interface UsageCell extends UsageKey, UsageReading {
  windowStart: WindowStart;
}

export interface ReserveRequest {
  key: UsageKey;
  windowStart: WindowStart;
  /** Units to add; negative releases (gauges). Usage never goes below 0 nor past MAX_USAGE (it saturates). */
  amount: number;
  /** When set, a positive amount that would take usage past `cap` is refused and nothing changes. */
  cap?: number | undefined;
}

/** Units held by a successful `reserve`, to `commit` or `release`. */
export interface Reservation {
  readonly key: UsageKey;
  readonly windowStart: WindowStart;
  /** The change actually applied: differs from the amount asked when a release hit the floor of 0. */
  readonly applied: number;
}

export interface ReserveResult {
  ok: boolean;
  /** Usage after the call (unchanged when refused), outstanding reservations included. */
  used: number;
  /** Highest threshold already fired in the window. */
  fired: number;
  /** Present when ok. */
  reservation: Reservation | undefined;
}

/**
 * Where usage lives. Small on purpose, so a Redis-backed store with leased slices of quota (design §12) can
 * implement it: every call names one key and one window, and `reserve` is a single atomic check-and-add (one
 * Lua script in Redis). The in-memory store is synchronous; a networked store keeps the same shape by
 * deciding from its local lease and settling with Redis off the request path.
 *
 * Protocol: `reserve` counts the units at once (concurrent reservers cannot overshoot the cap); then exactly
 * one of `commit` (the decision stands) or `release` (undo — e.g. its receipt could not be written).
 */
export interface UsageStore {
  /** Current usage of a key in a window; a cell holding another window reads as 0. Never writes. */
  read(key: UsageKey, windowStart: WindowStart): UsageReading;
  /**
   * Atomically: refuse if a positive amount would exceed `cap` (changing nothing), else add it (flooring at 0,
   * saturating at MAX_USAGE).
   */
  reserve(request: ReserveRequest): ReserveResult;
  /** Makes a reservation final. */
  commit(reservation: Reservation): void;
  /** Gives a reservation back; a no-op once its window has ended. */
  release(reservation: Reservation): void;
  /** Records the highest threshold fired in the window (gauges may lower it when a threshold re-arms). */
  setFired(key: UsageKey, windowStart: WindowStart, fired: number): void;
  /** Every cell, for snapshots and the tenant status usage summary. */
  cells(): Iterable<UsageCell>;
  /** Puts cells back (from a snapshot or a replay of the receipt log), replacing cells with the same key. */
  restore(cells: Iterable<UsageCell>): void;
  /** `cells()` as they are now, taken in O(1) and read later (the run state's save); a store without it is copied. */
  capture?(): Capture<UsageCell>;
}

/**
 * Largest usage a counter or gauge holds: 2^53-1, the largest whole number a JSON answer and a receipt hold
 * exactly. Usage saturates there (issue 15): a consume that would pass it is decided as usual and counts up to it.
 */
export const MAX_USAGE = Number.MAX_SAFE_INTEGER;

/**
 * `used + amount` within [0, MAX_USAGE]. Exact: for safe `used` ≥ 0 and safe `amount`, a true sum past 2^53-1
 * rounds to at least 2^53, so the clamp catches it, and a sum within range is exact.
 */
export function saturatingAdd(used: number, amount: number): number {
  return Math.min(MAX_USAGE, Math.max(0, used + amount));
}

interface CellValue {
  windowStart: WindowStart;
  used: number;
  fired: number;
}

interface MutableCell extends CellValue {
  /** The capture whose `before` this is (0: none); see MemoryUsageStore.capture. */
  mark: number;
  /** The cell's value when capture `mark` was taken, kept by its first change since; null: born after it. */
  before: CellValue | null;
}

const EMPTY: UsageReading = Object.freeze({ used: 0, fired: 0 });

/**
 * The in-process usage store: authoritative with one replica (embedded mode, or no Redis configured).
 *
 * @example
 * const usage = new MemoryUsageStore();
 * const key = { tenant: 'acme', metric: 'api-calls' };
 * const r = usage.reserve({ key, windowStart: start, amount: 5, cap: 1000 });
 * if (r.reservation) usage.commit(r.reservation);
 */
export class MemoryUsageStore implements UsageStore {
  readonly #tenants = new Map<string, Map<string, MutableCell>>();
  /** The capture being read (0: none): changes to cells it has not read yet keep their value before. */
  #mark = 0;
  #marks = 0;

  read(key: UsageKey, windowStart: WindowStart): UsageReading {
    const cell = this.#tenants.get(key.tenant)?.get(key.metric);
    return cell !== undefined && cell.windowStart === windowStart ? { used: cell.used, fired: cell.fired } : EMPTY;
  }

  reserve(request: ReserveRequest): ReserveResult {
    const { key, windowStart, amount, cap } = request;
    if (amount > 0 && cap !== undefined) {
      // Refused without a write: a denial leaves no trace, not even a new window started in the cell.
      const now = this.read(key, windowStart);
      if (now.used + amount > cap) return { ok: false, used: now.used, fired: now.fired, reservation: undefined };
    }
    const cell = this.#cell(key, windowStart);
    const used = saturatingAdd(cell.used, amount);
    const applied = used - cell.used;
    cell.used = used;
    return { ok: true, used, fired: cell.fired, reservation: { key, windowStart, applied } };
  }

  commit(_reservation: Reservation): void {
    // In process, reserved units are already counted; nothing is left to settle.
  }

  release(reservation: Reservation): void {
    const cell = this.#tenants.get(reservation.key.tenant)?.get(reservation.key.metric);
    if (cell === undefined || cell.windowStart !== reservation.windowStart) return;
    this.#keep(cell);
    cell.used = Math.max(0, cell.used - reservation.applied);
  }

  setFired(key: UsageKey, windowStart: WindowStart, fired: number): void {
    this.#cell(key, windowStart).fired = fired;
  }

  *cells(): Iterable<UsageCell> {
    for (const [tenant, metrics] of this.#tenants) {
      for (const [metric, { windowStart, used, fired }] of metrics) yield { tenant, metric, windowStart, used, fired };
    }
  }

  restore(cells: Iterable<UsageCell>): void {
    for (const { tenant, metric, windowStart, used, fired } of cells) {
      const metrics = this.#metrics(tenant);
      const cell = metrics.get(metric);
      if (cell === undefined) metrics.set(metric, this.#born({ windowStart, used, fired }));
      else {
        this.#keep(cell); // changed in place, so a capture being read finds what it held
        Object.assign(cell, { windowStart, used, fired });
      }
    }
  }

  /**
   * Sets a cell's usage and/or fired mark in `windowStart` to the values given (a replay of the receipt log, which
   * records absolute values); a cell holding another window starts this one afresh first.
   */
  put(key: UsageKey, windowStart: WindowStart, values: { used?: number | undefined; fired?: number | undefined }): void {
    const cell = this.#cell(key, windowStart);
    if (values.used !== undefined) cell.used = values.used;
    if (values.fired !== undefined) cell.fired = values.fired;
  }

  /**
   * `cells()` as they are now, taken in O(1) and read later, a cell at a time, while usage goes on changing (the
   * run state's save, issue 19): from now on the first change to a cell not read yet keeps its value before
   * (`before`), which the capture reads instead; cells born since are skipped; none is ever deleted. So it yields
   * exactly the cells, in the order, that `cells()` yields now. Reading it to the end releases it, or `release`.
   * A capture taken while one is held is copied whole.
   */
  capture(): Capture<UsageCell> {
    if (this.#mark !== 0) return copied([...this.cells()]);
    const mark = (this.#mark = ++this.#marks);
    const release = (): void => {
      if (this.#mark === mark) this.#mark = 0;
    };
    const read = this.#read(mark, release);
    return { [Symbol.iterator]: () => read, release };
  }

  *#read(mark: number, release: () => void): Generator<UsageCell> {
    try {
      for (const [tenant, metrics] of this.#tenants) yield* this.#readTenant(mark, tenant, metrics);
    } finally {
      release();
    }
  }

  *#readTenant(mark: number, tenant: string, metrics: Map<string, MutableCell>): Generator<UsageCell> {
    for (const [metric, cell] of metrics) {
      const at = cell.mark === mark ? cell.before : cell;
      // Read: a later change keeps nothing (cell.mark is this capture's), and nothing stays referenced.
      cell.mark = mark;
      cell.before = null;
      if (at !== null) yield { tenant, metric, windowStart: at.windowStart, used: at.used, fired: at.fired };
    }
  }

  /** Before a change to `cell`: its value kept for the capture being read, if it has not read it yet. */
  #keep(cell: MutableCell): void {
    if (this.#mark === 0 || cell.mark === this.#mark) return;
    cell.before = { windowStart: cell.windowStart, used: cell.used, fired: cell.fired };
    cell.mark = this.#mark;
  }

  /** A new cell: a capture being read skips it. */
  #born(value: CellValue): MutableCell {
    return { ...value, mark: this.#mark, before: null };
  }

  /** The cell of a key, started afresh when it holds another window. */
  #cell(key: UsageKey, windowStart: WindowStart): MutableCell {
    const metrics = this.#metrics(key.tenant);
    let cell = metrics.get(key.metric);
    if (cell === undefined) {
      cell = this.#born({ windowStart, used: 0, fired: 0 });
      metrics.set(key.metric, cell);
      return cell;
    }
    this.#keep(cell); // the caller changes it
    if (cell.windowStart !== windowStart) {
      cell.windowStart = windowStart;
      cell.used = 0;
      cell.fired = 0;
    }
    return cell;
  }

  #metrics(tenant: string): Map<string, MutableCell> {
    let metrics = this.#tenants.get(tenant);
    if (metrics === undefined) {
      metrics = new Map();
      this.#tenants.set(tenant, metrics);
    }
    return metrics;
  }
}
