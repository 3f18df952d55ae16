import type { CompiledTenant } from './types.ts';
import type { RateDecision, RateReason, RateRequest } from './decide-types.ts';
import type { RateBuckets, RateTake, TakeResult } from './rate-bucket.ts';
import { DecisionInputError, assertSafeInteger } from './decision-input-error.ts';
import { own } from './own.ts';

export interface RateContext {
  now: number;
  buckets: RateBuckets;
}

/** Throws DecisionInputError unless `cost` is absent or a safe integer ≥ 0. */
export function assertRateRequest(request: RateRequest): void {
  if (request.cost === undefined) return;
  assertSafeInteger('cost', request.cost);
  if (request.cost < 0) throw new DecisionInputError('cost', `must be 0 or more, got ${request.cost}`);
}

/**
 * Takes `cost` tokens (default 1) from the tenant's bucket `name` (design §3). A denied take (RateLimited)
 * takes nothing and says when to retry; a cost above the bucket's burst can never pass and answers
 * retryAfterMs -1. Cost 0 takes nothing and reports the tokens left.
 *
 * @example
 * decideRate(acme, { tenant: 'acme', name: 'requests' }, { now, buckets })
 * // { op: 'rate', allowed: true, reason: 'Allowed', remaining: 1999, retryAfterMs: 0, ... }
 */
export function decideRate(tenant: CompiledTenant | undefined, request: RateRequest, context: RateContext): RateDecision {
  const plan = planRate(tenant, request);
  if (plan.take === undefined) return plan.decision;
  return rateDecision(request, plan.take, context.buckets.take({ ...plan.take, now: context.now }));
}

/** The bucket a rate decision takes from, or the decision when none is involved (unknown tenant or name, suspended). */
export type RatePlan = { decision: RateDecision; take?: undefined } | { take: Omit<RateTake, 'now'> & { digest: string }; decision?: undefined };

/** Validates the request (DecisionInputError) and finds its bucket; shared by the in-process and shared-counter decisions. */
export function planRate(tenant: CompiledTenant | undefined, request: RateRequest): RatePlan {
  assertRateRequest(request);
  const cost = request.cost ?? 1;
  if (tenant === undefined) return { decision: refused(request, cost, undefined, 'UnknownTenant') };
  if (tenant.suspended) return { decision: refused(request, cost, tenant, 'TenantSuspended') };
  const rate = own(tenant.rates, request.name);
  if (rate === undefined) return { decision: refused(request, cost, tenant, 'UnknownMetric') };
  return { take: { tenant: tenant.name, name: request.name, rate, cost, digest: tenant.digest } };
}

/** The decision, from what the bucket answered (or `CountersUnavailable`: a rate limit fails open). */
export function rateDecision(request: RateRequest, take: { cost: number; digest: string }, taken: TakeResult | 'CountersUnavailable'): RateDecision {
  const base = { op: 'rate' as const, tenant: request.tenant, name: request.name, cost: take.cost };
  if (taken === 'CountersUnavailable') return { ...base, allowed: true, reason: taken, remaining: 0, retryAfterMs: 0, policy: take.digest };
  return { ...base, allowed: taken.allowed, reason: taken.allowed ? 'Allowed' : 'RateLimited', remaining: taken.remaining, retryAfterMs: taken.retryAfterMs, policy: take.digest };
}

function refused(request: RateRequest, cost: number, tenant: CompiledTenant | undefined, reason: RateReason): RateDecision {
  const result: RateDecision = {
    op: 'rate',
    tenant: request.tenant,
    name: request.name,
    cost,
    allowed: false,
    reason,
    remaining: 0,
    retryAfterMs: 0,
  };
  if (tenant !== undefined) result.policy = tenant.digest;
  return result;
}
