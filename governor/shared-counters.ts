import type { RateTake, TakeResult } from './rate-bucket.ts';
import type { Reservation, ReserveRequest, ReserveResult, UsageKey, UsageReading, WindowStart } from './usage.ts';

/**
 * Usage, threshold marks and token buckets that several replicas share (design §12: Redis/Valkey through
 * counters/). Each call is one atomic step on the store, with the rule of its in-process twin (MemoryUsageStore,
 * RateBuckets), so a hard quota is never exceeded across replicas and a threshold fires once per window.
 * Calls reject with CountersUnavailableError when the store cannot be reached in time.
 */
export interface SharedCounters {
  read(key: UsageKey, windowStart: WindowStart): Promise<UsageReading>;
  /** As UsageStore.reserve; what it counts is final (there is no commit). */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Gives a reservation back (its receipt could not be written); a no-op once its window has ended. */
  release(reservation: Reservation): Promise<void>;
  /**
   * Moves the window's fired mark from `expected` to `next` if it still is `expected`; whether it did. The
   * replica whose move succeeds announces the crossing.
   */
  moveFired(key: UsageKey, windowStart: WindowStart, mark: { expected: number; next: number }): Promise<boolean>;
  /** As RateBuckets.take. */
  take(request: RateTake): Promise<TakeResult>;
}

/** The shared counters could not be reached (or answered too late): decisions follow the unavailability policy. */
export class CountersUnavailableError extends Error {
  override name = 'CountersUnavailableError';
}
