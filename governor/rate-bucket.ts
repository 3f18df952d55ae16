/** A token bucket's shape: capacity `burst`, refilled continuously at `perSecond` tokens a second. */
export interface BucketRate {
  perSecond: number;
  burst: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Whole tokens left after the call (floor). */
  remaining: number;
  /**
   * 0 when allowed; otherwise the ms until `cost` tokens will exist (rounded up), or
   * `NEVER_RETRY_AFTER_MS` (-1) when cost exceeds the burst: such a request can never pass, and retrying
   * is pointless until the policy changes.
   */
  retryAfterMs: number;
}

/** retryAfterMs of a request that costs more than the bucket can ever hold. */
export const NEVER_RETRY_AFTER_MS = -1;

/** Tokens are kept in thousandths, so that refilling `perSecond` tokens per 1000 ms is integer arithmetic. */
const SCALE = 1000;

/**
 * What a take answers, from whether it took and the bucket's level after it (in thousandths of a token): the
 * in-process bucket and a shared one (counters/redis-scripts.ts TAKE) answer through this one function.
 */
export function takeResult(t: { allowed: boolean; level: number; cost: number; rate: BucketRate }): TakeResult {
  // Thousandths past 2^53 are approximate: never report more than a number holds exactly.
  const remaining = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(t.level / SCALE));
  if (t.allowed) return { allowed: true, remaining, retryAfterMs: 0 };
  // Saturated at 2^53-1 ms (a burst near 2^53 refilled at 1 token a second waits longer than a number holds).
  const retryAfterMs =
    t.cost > t.rate.burst ? NEVER_RETRY_AFTER_MS : Math.min(Number.MAX_SAFE_INTEGER, Math.ceil((t.cost * SCALE - t.level) / t.rate.perSecond));
  return { allowed: false, remaining, retryAfterMs };
}

/**
 * One token bucket. Starts full. `take` refills for the time elapsed since the last call, then takes `cost`
 * tokens if they are all there; a denied take consumes nothing. Time going backwards refills nothing.
 *
 * @example
 * const bucket = new TokenBucket({ perSecond: 10, burst: 20 }, now);
 * bucket.take(1, now); // { allowed: true, remaining: 19, retryAfterMs: 0 }
 */
export class TokenBucket {
  #rate: BucketRate;
  /** Tokens × SCALE. */
  #level: number;
  #updatedAt: number;

  constructor(rate: BucketRate, now: number) {
    this.#rate = rate;
    this.#level = rate.burst * SCALE;
    this.#updatedAt = now;
  }

  get rate(): BucketRate {
    return this.#rate;
  }

  /** Tokens available at `now` (fractional). */
  tokens(now: number): number {
    this.#refill(now);
    return this.#level / SCALE;
  }

  /**
   * Changes rate and burst (a snapshot swap): time elapsed so far refills at the old rate, and the tokens
   * held are kept, clamped to the new burst.
   */
  reconfigure(rate: BucketRate, now: number): void {
    if (rate.perSecond === this.#rate.perSecond && rate.burst === this.#rate.burst) return;
    this.#refill(now);
    this.#rate = rate;
    this.#level = Math.min(this.#level, rate.burst * SCALE);
  }

  take(cost: number, now: number): TakeResult {
    this.#refill(now);
    const allowed = cost * SCALE <= this.#level;
    if (allowed) this.#level -= cost * SCALE;
    return takeResult({ allowed, level: this.#level, cost, rate: this.#rate });
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt;
    if (elapsed <= 0) return;
    this.#updatedAt = now;
    const capacity = this.#rate.burst * SCALE;
    // perSecond tokens per second = perSecond thousandths per ms.
    this.#level = Math.min(capacity, this.#level + elapsed * this.#rate.perSecond);
  }
}

export interface RateTake {
  tenant: string;
  name: string;
  rate: BucketRate;
  cost: number;
  now: number;
}

/**
 * The token buckets of every tenant, by tenant + rate name. Buckets are made on first use (full) and follow
 * the rate of the policy passed with each call, so they survive snapshot swaps. Their number is bounded by the
 * rates the policy declares: callers only take from buckets of known tenants and names.
 */
export class RateBuckets {
  readonly #tenants = new Map<string, Map<string, TokenBucket>>();

  take(request: RateTake): TakeResult {
    return this.bucket(request).take(request.cost, request.now);
  }

  /** The bucket for tenant + name, made full at `now` or reconfigured to `rate`. */
  bucket(request: Omit<RateTake, 'cost'>): TokenBucket {
    let buckets = this.#tenants.get(request.tenant);
    if (buckets === undefined) {
      buckets = new Map();
      this.#tenants.set(request.tenant, buckets);
    }
    let bucket = buckets.get(request.name);
    if (bucket === undefined) {
      bucket = new TokenBucket(request.rate, request.now);
      buckets.set(request.name, bucket);
    } else {
      bucket.reconfigure(request.rate, request.now);
    }
    return bucket;
  }

  /** Forgets a tenant's buckets (e.g. when the tenant is deleted). */
  forget(tenant: string): void {
    this.#tenants.delete(tenant);
  }
}
