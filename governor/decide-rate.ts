import type { CompiledTenant } from './types.ts';
import type { RateDecision, RateReason, RateRequest } from './decide-types.ts';
import type { RateBuckets } from './rate-bucket.ts';
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
  assertRateRequest(request);
  const cost = request.cost ?? 1;
  if (tenant === undefined) return refused(request, cost, undefined, 'UnknownTenant');
  if (tenant.suspended) return refused(request, cost, tenant, 'TenantSuspended');
  const rate = own(tenant.rates, request.name);
  if (rate === undefined) return refused(request, cost, tenant, 'UnknownMetric');
  const taken = context.buckets.take({ tenant: tenant.name, name: request.name, rate, cost, now: context.now });
  return {
    op: 'rate',
    tenant: request.tenant,
    name: request.name,
    cost,
    allowed: taken.allowed,
    reason: taken.allowed ? 'Allowed' : 'RateLimited',
    remaining: taken.remaining,
    retryAfterMs: taken.retryAfterMs,
    policy: tenant.digest,
  };
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
