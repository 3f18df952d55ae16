/**
 * Gauges re-arm a fired threshold only once usage has fallen at least this many percentage points below it
 * (a 90 % alert re-arms at ≤ 85 %), so a gauge hovering at a line does not fire again on every +1 / −1.
 */
export const GAUGE_HYSTERESIS_PERCENT = 5;

export interface ThresholdInput {
  /** Ascending percentages (1-100). */
  alertAt: readonly number[];
  limit: number;
  /** Usage before and after the change. */
  before: number;
  after: number;
  /** The highest threshold already fired in this window; 0 when none has. */
  fired: number;
  /**
   * 'window' (counters): a fired threshold stays fired until the window ends (the usage store resets `fired`).
   * 'hysteresis' (gauges, which have no window): a fired threshold re-arms once usage falls to
   * `threshold − GAUGE_HYSTERESIS_PERCENT` % or below.
   */
  rearm: 'window' | 'hysteresis';
}

export interface ThresholdOutcome {
  /** The threshold to announce now, if any: the highest newly crossed one. */
  fire: number | undefined;
  /** The highest-fired mark to store for the next call. */
  fired: number;
}

/**
 * Which threshold, if any, a change of usage from `before` to `after` crosses.
 *
 * A threshold t is reached when used ≥ t % of limit; a limit of 0 counts as 100 % once anything is used.
 * Only a rise can fire, only thresholds above `fired` can fire, and of several crossed at once only the
 * highest fires (the lower ones count as fired with it). So each threshold fires at most once per window and
 * usage hovering at a line stays quiet. Comparisons are exact integer arithmetic.
 *
 * @example
 * thresholdCrossing({ alertAt: [70, 90, 100], limit: 100, before: 60, after: 95, fired: 0, rearm: 'window' })
 * // → { fire: 90, fired: 90 }
 */
export function thresholdCrossing(input: ThresholdInput): ThresholdOutcome {
  const { alertAt, limit, after } = input;
  const fired = input.rearm === 'hysteresis' ? stillLatched(alertAt, limit, after, input.fired) : input.fired;
  if (after <= input.before) return { fire: undefined, fired };
  let fire: number | undefined;
  for (const threshold of alertAt) {
    if (threshold > fired && comparePercent(after, limit, threshold) >= 0) fire = threshold;
  }
  return fire === undefined ? { fire, fired } : { fire, fired: fire };
}

/** The highest fired threshold that usage has not yet fallen far enough below to re-arm; 0 when none. */
function stillLatched(alertAt: readonly number[], limit: number, used: number, fired: number): number {
  let latched = 0;
  for (const threshold of alertAt) {
    if (threshold > fired) break;
    const rearmAt = Math.max(0, threshold - GAUGE_HYSTERESIS_PERCENT);
    if (comparePercent(used, limit, rearmAt) > 0) latched = threshold;
  }
  return latched;
}

/**
 * Sign of (used / limit × 100 − percent), exactly. A limit of 0 is 100 % once anything is used, else 0 %.
 */
export function comparePercent(used: number, limit: number, percent: number): number {
  if (limit <= 0) return Math.sign((used > 0 ? 100 : 0) - percent);
  const left = used * 100;
  const right = percent * limit;
  if (Number.isSafeInteger(left) && Number.isSafeInteger(right)) return Math.sign(left - right);
  const difference = BigInt(used) * 100n - BigInt(percent) * BigInt(limit);
  return difference > 0n ? 1 : difference < 0n ? -1 : 0;
}

/**
 * Whole percent of the limit in use (floor, exact); 100 for a limit of 0 once anything is used. Saturates at
 * 2^53-1 (usage near 2^53 over a limit of 1 is ~9·10^17 %), so a receipt can always record it.
 */
export function percentUsed(used: number, limit: number): number {
  if (limit <= 0) return used > 0 ? 100 : 0;
  const scaled = used * 100;
  if (Number.isSafeInteger(scaled)) return Math.floor(scaled / limit);
  const exact = (BigInt(used) * 100n) / BigInt(limit);
  return exact > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(exact);
}
