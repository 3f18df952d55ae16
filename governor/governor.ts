import type { CompiledTenant } from './types.ts';
import type {
  CheckDecision,
  CheckRequest,
  ConsumeDecision,
  ConsumeRequest,
  Decision,
  DecisionRequest,
  RateDecision,
  RateRequest,
  ThresholdCrossing,
} from './decide-types.ts';
import type { UsageStore } from './usage.ts';
import { decideCheck } from './decide-check.ts';
import { assertConsumeRequest, decideConsume } from './decide-consume.ts';
import { assertRateRequest, decideRate } from './decide-rate.ts';
import { DecisionInputError, assertIdempotencyKey, assertRecordableText, assertSafeInteger } from './decision-input-error.ts';
import { IdempotencyCache } from './idempotency.ts';
import { RateBuckets } from './rate-bucket.ts';
import { MemoryUsageStore } from './usage.ts';
import { WindowCache } from './window-cache.ts';

/** The time source: ms since the epoch, UTC. Injected so tests and log replay control time. */
export interface Clock {
  now(): number;
}

/** Where the governor finds a tenant's compiled entitlements (a compiled snapshot, swapped atomically). */
export interface PolicySource {
  /** The tenant's effective entitlements at `now` (time-boxed Quotas apply by it), or undefined if unknown. */
  tenant(name: string, now: number): CompiledTenant | undefined;
}

/** What `onThreshold` hears: the crossing, and whose. */
export interface ThresholdEvent extends ThresholdCrossing {
  tenant: string;
  metric: string;
}

export interface GovernorOptions {
  policy: PolicySource;
  clock: Clock;
  /** Default: a new MemoryUsageStore. */
  usage?: UsageStore;
  /** Default: a new RateBuckets. */
  buckets?: RateBuckets;
  /** Default: a 24 h IdempotencyCache. */
  idempotency?: IdempotencyCache<ConsumeDecision>;
  /**
   * Called synchronously for each threshold a consumption crosses, after the decision is counted and its
   * idempotency key stored: an exception thrown here reaches the caller, but the counts stay consistent
   * (a retry with the same key replays the decision and does not call the listener again).
   */
  onThreshold?: (event: ThresholdEvent) => void;
}

/**
 * The decision facade: reads the tenant from the policy source and the time from the clock, then decides.
 * Synchronous and in-process; usage, rate buckets and idempotency keys live here, apart from the policy.
 *
 * Idempotency: a consume with an idempotencyKey already seen for the same tenant within 24 h returns the
 * first decision — the same object, unchanged — and counts nothing, even when the amount (or metric) differs:
 * the key names the request, and a retry must not be able to change what was decided. A peek (amount 0) never
 * stores its key (a key already stored still replays, whatever the amount). Every first decision is stored,
 * denials included.
 *
 * @example
 * const governor = new Governor({ policy, clock: { now: Date.now } });
 * governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 5, idempotencyKey: 'req-7' });
 */
export class Governor {
  readonly usage: UsageStore;
  readonly buckets: RateBuckets;
  readonly idempotency: IdempotencyCache<ConsumeDecision>;
  readonly #policy: PolicySource;
  readonly #clock: Clock;
  readonly #onThreshold: ((event: ThresholdEvent) => void) | undefined;
  /** The quota windows in use, placed once per window and reset. */
  readonly #windows = new WindowCache();

  constructor(options: GovernorOptions) {
    this.#policy = options.policy;
    this.#clock = options.clock;
    this.usage = options.usage ?? new MemoryUsageStore();
    this.buckets = options.buckets ?? new RateBuckets();
    this.idempotency = options.idempotency ?? new IdempotencyCache<ConsumeDecision>();
    this.#onThreshold = options.onThreshold;
  }

  /** Throws DecisionInputError for text a receipt cannot record (a lone surrogate). */
  check(request: CheckRequest): CheckDecision {
    assertRecordableText(request);
    return this.#check(request, this.#clock.now());
  }

  /** Throws DecisionInputError for a malformed request (see assertConsumeRequest) or unrecordable text. */
  consume(request: ConsumeRequest): ConsumeDecision {
    return this.#consume(request, this.#clock.now());
  }

  /** Throws DecisionInputError for a malformed cost or unrecordable text. */
  rate(request: RateRequest): RateDecision {
    assertRecordableText(request);
    return this.#rate(request, this.#clock.now());
  }

  /**
   * Decides every request in order, all at one instant, and returns the results in the same order. Every item
   * is validated first (shape, and text a receipt can record): if one is malformed, DecisionInputError names it (`decisions[2].amount: ...`) and no
   * item is decided or counted.
   */
  batch(requests: readonly DecisionRequest[]): Decision[] {
    const now = this.#clock.now();
    requests.forEach((request, index) => {
      try {
        this.#validate(request, now);
      } catch (error) {
        throw error instanceof DecisionInputError ? error.within(`decisions[${index}]`) : error;
      }
    });
    return requests.map((request) => this.#decide(request, now));
  }

  #validate(request: DecisionRequest, now: number): void {
    assertRecordableText(request);
    switch (request.op) {
      case 'check':
        return;
      case 'consume':
        // Shape first: a malformed item must not reach the policy source.
        assertSafeInteger('amount', request.amount);
        assertIdempotencyKey(request.idempotencyKey);
        return assertConsumeRequest(this.#policy.tenant(request.tenant, now), request);
      case 'rate':
        return assertRateRequest(request);
      default:
        throw new DecisionInputError('op', `must be "check", "consume" or "rate", got ${JSON.stringify((request as { op: unknown }).op)}`);
    }
  }

  #decide(request: DecisionRequest, now: number): Decision {
    if (request.op === 'check') return this.#check(request, now);
    if (request.op === 'consume') return this.#consume(request, now);
    return this.#rate(request, now);
  }

  #check(request: CheckRequest, now: number): CheckDecision {
    return decideCheck(this.#policy.tenant(request.tenant, now), request);
  }

  #consume(request: ConsumeRequest, now: number): ConsumeDecision {
    assertRecordableText(request);
    assertSafeInteger('amount', request.amount);
    assertIdempotencyKey(request.idempotencyKey);
    const key = request.idempotencyKey;
    const replay = key === undefined ? undefined : this.idempotency.get(request.tenant, key, now);
    if (replay !== undefined) return replay;
    const decision = decideConsume(this.#policy.tenant(request.tenant, now), request, { now, usage: this.usage, windows: this.#windows });
    if (key !== undefined && request.amount !== 0) this.idempotency.remember(request.tenant, key, decision, now);
    if (decision.crossing !== undefined) this.#onThreshold?.({ ...decision.crossing, tenant: request.tenant, metric: request.metric });
    return decision;
  }

  #rate(request: RateRequest, now: number): RateDecision {
    return decideRate(this.#policy.tenant(request.tenant, now), request, { now, buckets: this.buckets });
  }
}
