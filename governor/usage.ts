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

interface MutableCell {
  windowStart: WindowStart;
  used: number;
  fired: number;
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
    cell.used = Math.max(0, cell.used - reservation.applied);
  }

  setFired(key: UsageKey, windowStart: WindowStart, fired: number): void {
    this.#cell(key, windowStart).fired = fired;
  }

  *cells(): Iterable<UsageCell> {
    for (const [tenant, metrics] of this.#tenants) {
      for (const [metric, cell] of metrics) yield { tenant, metric, ...cell };
    }
  }

  restore(cells: Iterable<UsageCell>): void {
    for (const { tenant, metric, windowStart, used, fired } of cells) {
      this.#metrics(tenant).set(metric, { windowStart, used, fired });
    }
  }

  /** The cell of a key, started afresh when it holds another window. */
  #cell(key: UsageKey, windowStart: WindowStart): MutableCell {
    const metrics = this.#metrics(key.tenant);
    let cell = metrics.get(key.metric);
    if (cell === undefined) {
      cell = { windowStart, used: 0, fired: 0 };
      metrics.set(key.metric, cell);
    } else if (cell.windowStart !== windowStart) {
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
