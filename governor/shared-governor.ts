import type { Clock, PolicySource, ThresholdEvent } from './governor.ts';
import type { CheckDecision, CheckRequest, ConsumeDecision, ConsumeRequest, Decision, DecisionRequest, RateDecision, RateRequest } from './decide-types.ts';
import { decideCheck } from './decide-check.ts';
import { consumeDecision, planConsume, readOutcome, readsOnly, reserveRequest, reservedOutcome, unannounced, type Meter } from './decide-consume.ts';
import { assertRateRequest, planRate, rateDecision } from './decide-rate.ts';
import { DecisionInputError, assertIdempotencyKey, assertRecordableText, assertSafeInteger } from './decision-input-error.ts';
import { CountersUnavailableError, type SharedCounters } from './shared-counters.ts';
import { WindowCache } from './window-cache.ts';

/**
 * Idempotency keys shared by replicas: the first answer to a tenant's key, stored by the replica that recorded
 * it (its receipt included), for every replica to give back.
 */
export interface SharedAnswers {
  /**
   * The answer stored under the key; `'pending'` while another request holds it unanswered; or undefined once
   * this request holds it (`claim: false` only looks, for a peek, which never stores its key).
   */
  claim(tenant: string, key: string, claim: boolean): Promise<ConsumeDecision | 'pending' | undefined>;
  /** Stores the answer to a key this request holds. */
  settle(tenant: string, key: string, answer: ConsumeDecision): Promise<void>;
  /** Lets go of a key this request holds without an answer (nothing was decided), so a retry is decided afresh. */
  abandon(tenant: string, key: string): Promise<void>;
}

/** A retry arrived while the first request with its idempotency key is still being answered (HTTP 409). */
export class IdempotencyKeyInFlightError extends Error {
  override name = 'IdempotencyKeyInFlightError';
}

export interface SharedGovernorOptions {
  policy: PolicySource;
  clock: Clock;
  counters: SharedCounters;
  answers: SharedAnswers;
  /** Hears each crossing this replica announces (the one that moved the window's fired mark). */
  onThreshold?: (event: ThresholdEvent) => void;
}

/**
 * The Governor's decisions on counters that several replicas share (design §12): the same rules (the consume
 * steps of decide-consume.ts, the token bucket's arithmetic), with usage counted atomically in the shared store,
 * so together the replicas never allow past a hard limit. Asynchronous: each decision that counts is one round
 * trip (pipelined with every other issued in the same tick).
 *
 * While the counters cannot be reached, decisions answer `CountersUnavailable`: a hard quota denies (fails
 * closed); soft and observe quotas and rate limits allow without counting (fail open).
 */
export class SharedGovernor {
  readonly #o: SharedGovernorOptions;
  readonly #windows = new WindowCache();

  constructor(options: SharedGovernorOptions) {
    this.#o = options;
  }

  /** Checks read no usage: as the Governor's. */
  check(request: CheckRequest): CheckDecision {
    assertRecordableText(request);
    return decideCheck(this.#o.policy.tenant(request.tenant, this.#o.clock.now()), request);
  }

  async consume(request: ConsumeRequest): Promise<ConsumeDecision> {
    return this.#consume(request, this.#o.clock.now());
  }

  async rate(request: RateRequest): Promise<RateDecision> {
    assertRecordableText(request);
    return this.#rate(request, this.#o.clock.now());
  }

  /** Validates every item first (nothing is decided if one is malformed), then decides them, in order, at one instant. */
  async batch(requests: readonly DecisionRequest[]): Promise<Decision[]> {
    const now = this.#o.clock.now();
    requests.forEach((request, index) => {
      try {
        this.#validate(request, now);
      } catch (error) {
        throw error instanceof DecisionInputError ? error.within(`decisions[${index}]`) : error;
      }
    });
    // Each item's first command is issued before the next item's: the store sees them in order. A key repeated in
    // the batch replays the first item that stores it, as in process (its claim would otherwise answer "in flight").
    const keyed = new Map<string, Promise<ConsumeDecision>>();
    return Promise.all(
      requests.map((r) => {
        if (r.op === 'check') return decideCheck(this.#o.policy.tenant(r.tenant, now), r);
        if (r.op === 'rate') return this.#rate(r, now);
        const key = r.idempotencyKey === undefined ? undefined : `${r.tenant}\u0000${r.idempotencyKey}`;
        const first = key === undefined ? undefined : keyed.get(key);
        if (first !== undefined) return first;
        const decided = this.#consume(r, now);
        if (key !== undefined && r.amount !== 0) keyed.set(key, decided);
        return decided;
      }),
    );
  }

  /** Stores the answer (with its receipt) to a consume whose idempotency key this replica holds. */
  settle(tenant: string, key: string, answer: ConsumeDecision): Promise<void> {
    return this.#o.answers.settle(tenant, key, answer);
  }

  #validate(request: DecisionRequest, now: number): void {
    assertRecordableText(request);
    if (request.op === 'rate') return assertRateRequest(request);
    if (request.op !== 'consume') return;
    assertSafeInteger('amount', request.amount);
    assertIdempotencyKey(request.idempotencyKey);
    planConsume(this.#o.policy.tenant(request.tenant, now), request, { now, windows: this.#windows });
  }

  async #consume(request: ConsumeRequest, now: number): Promise<ConsumeDecision> {
    assertRecordableText(request);
    assertSafeInteger('amount', request.amount);
    assertIdempotencyKey(request.idempotencyKey);
    const plan = planConsume(this.#o.policy.tenant(request.tenant, now), request, { now, windows: this.#windows });
    const key = request.idempotencyKey;
    // A peek never stores its key; a key already stored still replays, whatever the amount (as the Governor).
    const claims = key !== undefined && request.amount !== 0;
    try {
      const stored = key === undefined ? undefined : await this.#o.answers.claim(request.tenant, key, claims);
      if (stored === 'pending') throw new IdempotencyKeyInFlightError(`idempotencyKey ${JSON.stringify(key)} is being answered by another request: retry in a moment`);
      if (stored !== undefined) return stored;
      return plan.meter === undefined ? plan.decision : await this.#count(request, plan.meter);
    } catch (e) {
      if (!(e instanceof CountersUnavailableError)) throw e;
      if (claims) await this.#o.answers.abandon(request.tenant, key).catch(() => undefined); // else its claim expires
      return plan.meter === undefined ? plan.decision : consumeDecision(request, plan.meter, countersUnavailable(plan.meter));
    }
  }

  async #count(request: ConsumeRequest, meter: Meter): Promise<ConsumeDecision> {
    const { counters } = this.#o;
    if (readsOnly(meter, request.amount)) return consumeDecision(request, meter, readOutcome(meter, (await counters.read(meter.key, meter.windowStart)).used));
    const { outcome, mark } = reservedOutcome(meter, await counters.reserve(reserveRequest(meter, request.amount)));
    const announces = mark === undefined || (await counters.moveFired(meter.key, meter.windowStart, mark));
    const decision = consumeDecision(request, meter, announces ? outcome : unannounced(outcome));
    if (decision.crossing !== undefined) this.#o.onThreshold?.({ ...decision.crossing, tenant: request.tenant, metric: request.metric });
    return decision;
  }

  async #rate(request: RateRequest, now: number): Promise<RateDecision> {
    const plan = planRate(this.#o.policy.tenant(request.tenant, now), request);
    if (plan.take === undefined) return plan.decision;
    const taken = await this.#o.counters.take({ ...plan.take, now }).catch((e: unknown) => {
      if (e instanceof CountersUnavailableError) return 'CountersUnavailable' as const;
      throw e;
    });
    return rateDecision(request, plan.take, taken);
  }
}

/** The policy while the counters are unreachable: a hard quota denies; soft and observe allow, uncounted. */
function countersUnavailable(meter: Meter): { allowed: boolean; reason: 'CountersUnavailable'; used: number } {
  return { allowed: meter.quota.enforcement !== 'hard', reason: 'CountersUnavailable', used: 0 };
}
